#include "store/checkpointer.h"

#include <sqlite3.h>

namespace herald::store {

Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path) {
  std::unique_ptr<Checkpointer> c(new Checkpointer());
  Result<Database> db = Database::open(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) {
    return Error{db.error()};
  }
  c->db_ = std::move(*db);
  // This connection must never checkpoint on close: the writer's connection, closed last, does
  // the final one (and removes the WAL).
  sqlite3_db_config(c->db_.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // A connection reads the database header lazily; until it has, a checkpoint does nothing
  // (and reports -1 frames). Reading the journal mode opens the WAL.
  Result<std::string> mode = c->db_.pragma_text("PRAGMA journal_mode");
  if (!mode.ok()) {
    return Error{mode.error()};
  }
  if (*mode != "wal") {
    return Error{"history store " + path + ": checkpointer: journal mode is " + *mode};
  }
  c->thread_ = std::thread([p = c.get()] { p->main(); });
  return c;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Checkpointer::request() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (requested_) {
      return;
    }
    requested_ = true;
  }
  wake_.notify_one();
}

uint64_t Checkpointer::checkpoints() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return checkpoints_;
}

bool Checkpointer::checkpoint_now(sqlite3* db, bool wait) {
  std::unique_lock<std::mutex> checkpointing(checkpoint_mutex_, std::defer_lock);
  if (wait) {
    checkpointing.lock();
  } else if (!checkpointing.try_lock()) {
    return false;
  }
  int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  backfilled_.store(0, std::memory_order_release);  // the WAL restarts: nothing copied of it yet
  return rc == SQLITE_OK;
}

void Checkpointer::main() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) {
      return;
    }
    requested_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, without waiting for anyone. A failure (another
    // checkpoint running, I/O error) is harmless here: the WAL just stays longer, and the writer
    // checkpoints itself if it grows too long.
    int log_frames = 0;
    int copied = 0;
    int rc = SQLITE_OK;
    {
      std::lock_guard<std::mutex> checkpointing(checkpoint_mutex_);
      rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                     &copied);
    }
    backfilled_.store(rc == SQLITE_OK ? copied : 0, std::memory_order_release);
    lock.lock();
    checkpoints_ += rc == SQLITE_OK ? 1 : 0;
  }
}

}  // namespace herald::store
