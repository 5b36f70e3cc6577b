#pragma once
// Checkpointer: copies the WAL back into the database file on a thread of its own, so that the
// writer's commits never wait for a checkpoint (the checkpoint is what fsyncs the database file
// in synchronous=NORMAL; done inline it put a 4-8 ms pause into every few hundred commits).
// A PASSIVE checkpoint never blocks the writer or the readers. Owned by StoreWriter.
// Thread: request() from any thread (the writer, after a commit); the rest from the owner.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "store/sqlite.h"

namespace herald::store {

class Checkpointer {
 public:
  static Result<std::unique_ptr<Checkpointer>> start(const std::string& path);
  // Stops the thread (a checkpoint in progress finishes first) and closes its connection.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for one checkpoint soon; requests made while one runs are merged into the next.
  void request();
  uint64_t checkpoints() const;
  // Checkpoints now on the caller's connection (the writer's, between transactions), so that
  // nothing races the copy and the next commit restarts the WAL. wait: first let a background
  // checkpoint finish; otherwise give up (false) when one is running.
  bool checkpoint_now(sqlite3* db, bool wait);
  // WAL frames copied into the database by the last checkpoint (the writer restarts the WAL
  // itself when the rest is small).
  int backfilled() const { return backfilled_.load(std::memory_order_acquire); }

 private:
  Checkpointer() = default;
  void main();

  Database db_;
  std::thread thread_;
  // Held while any checkpoint runs: SQLite answers SQLITE_BUSY to a second one instead of waiting.
  std::mutex checkpoint_mutex_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;    // guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  uint64_t checkpoints_ = 0;  // guarded by mutex_
  std::atomic<int> backfilled_{0};
};

}  // namespace herald::store
