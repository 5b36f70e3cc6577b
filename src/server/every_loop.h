#pragma once
// on_every_loop: asks every event loop of the server for something and gathers the answers, for
// the server API's questions about the whole server (channels, info) and its orders to all of it
// (disconnect a user). Each loop answers on its own thread, so nothing of a loop is read from
// another thread. Thread: a loop thread (the answers come back on it).

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "net/gather.h"
#include "server/loop_context.h"

namespace herald::server {

// Runs ask(loop) on every loop, then done(answers) on `origin`, answers indexed by loop. If the
// server stops before every loop answered, done is never called (and nobody waits for it).
template <typename T>
void on_every_loop(LoopContext& origin, std::function<T(LoopContext&)> ask,
                   std::function<void(std::vector<T>)> done) {
  auto* loops = &origin.core.loops;
  net::gather<T>(
      loops->size(),
      [loops, ask = std::move(ask)](size_t i, std::function<void(T)> answer) {
        LoopContext* target = (*loops)[i].get();
        target->loop.post([target, ask, answer = std::move(answer)] { answer(ask(*target)); });
      },
      [&origin](std::function<void()> fn) { origin.loop.post(std::move(fn)); }, std::move(done));
}

// As on_every_loop, but done runs after at most timeout_ms with the answers that came (nullopt for
// a loop that did not answer in time: it is stuck: see LoopContext::heartbeat_age_ms). For what
// must answer even when a loop is stuck (/metrics, /stats). A late answer is dropped.
template <typename T>
void on_every_loop_within(LoopContext& origin, uint32_t timeout_ms,
                          std::function<T(LoopContext&)> ask,
                          std::function<void(std::vector<std::optional<T>>)> done) {
  struct Gather {
    explicit Gather(size_t n) : answers(n), ready(n) {}
    std::vector<T> answers;                 // slot i written by loop i, before ready[i]
    std::vector<std::atomic<bool>> ready;   // loop i's answer is in its slot
    std::atomic<size_t> remaining;
    bool finished = false;                  // origin's thread only
    std::function<T(LoopContext&)> ask;
    std::function<void(std::vector<std::optional<T>>)> done;
  };
  auto& loops = origin.core.loops;
  auto g = std::make_shared<Gather>(loops.size());
  g->remaining.store(loops.size());
  g->ask = std::move(ask);
  g->done = std::move(done);
  // On origin, once: by the last answer or by the timeout, whichever comes first. Only slots
  // marked ready are read, so a loop answering late never writes what is being read.
  auto finish = [g] {
    if (g->finished) {
      return;
    }
    g->finished = true;
    std::vector<std::optional<T>> out(g->answers.size());
    for (size_t i = 0; i < out.size(); ++i) {
      if (g->ready[i].load(std::memory_order_acquire)) {
        out[i] = std::move(g->answers[i]);
      }
    }
    g->done(std::move(out));
  };
  origin.loop.run_after(timeout_ms, finish);
  for (size_t i = 0; i < loops.size(); ++i) {
    LoopContext* target = loops[i].get();
    target->loop.post([g, target, i, finish, origin_ctx = &origin] {
      g->answers[i] = g->ask(*target);
      g->ready[i].store(true, std::memory_order_release);
      if (g->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        origin_ctx->loop.post(finish);
      }
    });
  }
}

}  // namespace herald::server
