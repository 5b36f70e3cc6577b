#pragma once
// gather: one answer from each of n event loops, handed back together on the loop that asked.
// For questions about a whole server (subscriber counts, a user's connections to close): each
// loop answers on its own thread, so nothing of a loop is read from another. The caller says
// how to reach loop i (server::on_every_loop over LoopContexts, the Pusher endpoint's
// every_loop over Host::post_to). If a loop never runs the posted work (the server stops), done
// is never called and nobody waits for it. Thread: any (the callbacks run where posted).

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace herald::net {

// ask_at(i, answer): must make loop i call answer(value) once, on its own thread.
// post_back(fn): runs fn on the asking loop. done(answers), indexed by loop, runs there.
template <typename T>
void gather(size_t n, const std::function<void(size_t, std::function<void(T)>)>& ask_at,
            std::function<void(std::function<void()>)> post_back,
            std::function<void(std::vector<T>)> done) {
  struct Gathering {
    std::vector<T> answers;
    std::atomic<size_t> remaining;
    std::function<void(std::function<void()>)> post_back;
    std::function<void(std::vector<T>)> done;
  };
  auto g = std::make_shared<Gathering>();
  g->answers.resize(n);
  g->remaining.store(n);
  g->post_back = std::move(post_back);
  g->done = std::move(done);
  for (size_t i = 0; i < n; ++i) {
    ask_at(i, [g, i](T value) {
      g->answers[i] = std::move(value);
      // The last answer hands the whole vector back; acq_rel orders every slot's write before it.
      if (g->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        g->post_back([g] { g->done(std::move(g->answers)); });
      }
    });
  }
}

}  // namespace herald::net
