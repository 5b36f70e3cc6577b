#pragma once
// on_every_loop: asks every event loop of the server for something and gathers the answers, for
// the server API's questions about the whole server (channels, info) and its orders to all of it
// (disconnect a user). Each loop answers on its own thread, so nothing of a loop is read from
// another thread. Thread: a loop thread (the answers come back on it).

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "server/loop_context.h"

namespace herald::server {

// Runs ask(loop) on every loop, then done(answers) on `origin`, answers indexed by loop. If the
// server stops before every loop answered, done is never called (and nobody waits for it).
template <typename T>
void on_every_loop(LoopContext& origin, std::function<T(LoopContext&)> ask,
                   std::function<void(std::vector<T>)> done) {
  struct Gather {
    std::vector<T> answers;
    std::atomic<size_t> remaining;
    std::function<T(LoopContext&)> ask;
    std::function<void(std::vector<T>)> done;
  };
  auto& loops = origin.core.loops;
  auto g = std::make_shared<Gather>();
  g->answers.resize(loops.size());
  g->remaining.store(loops.size());
  g->ask = std::move(ask);
  g->done = std::move(done);
  for (size_t i = 0; i < loops.size(); ++i) {
    LoopContext* target = loops[i].get();
    target->loop.post([g, target, i, origin_ctx = &origin] {
      g->answers[i] = g->ask(*target);
      // The last answer hands the whole vector back; acq_rel orders every slot's write before it.
      if (g->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        origin_ctx->loop.post([g] { g->done(std::move(g->answers)); });
      }
    });
  }
}

}  // namespace herald::server
