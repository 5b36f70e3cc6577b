#pragma once
// HistoryStore: the durable history of every channel on one node, in one SQLite database in WAL
// mode. Writes (append, reset_channel) go through a single writer thread that commits them in
// batches, one transaction per batch, so the event loops that publish never wait on the disk or
// on each other; reads (load_channel, read, read_reverse, first_offset, channels) run on the
// calling thread with a read connection of their own, concurrently with the writer (WAL readers
// never block it).
//
// What must stay true: a publication is acknowledged (its `done` runs with Ok) only once the
// transaction holding it has committed; a channel's epoch and top offset survive a restart,
// SIGTERM or kill -9 alike; offsets in a channel are contiguous within an epoch, so a caller can
// tell a hole (a window lost to retention) from the rows it gets back.
//
// Owned by the server (one per process and database file: a second open of the same file fails).
// Thread: any, except that reset_channel(), flush() and run_retention() called from a `done`
// callback return an Error (they wait for the writer thread, which is running the callback).
// The WAL is copied back into the database by a background checkpointer (see checkpointer.h),
// so commits do not pay for it.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/histogram.h"
#include "base/result.h"

namespace herald::store {

struct Publication {
  uint64_t offset = 0;
  int64_t time_ms = 0;  // as given to append (the publisher's wall clock); TTL compares it
  std::string data;     // raw JSON text, stored and returned byte for byte
  std::string publisher;  // opaque bytes given to append (who published), "" = none
};

// One publication as append() takes it.
struct NewPublication {
  uint64_t offset = 0;
  int64_t time_ms = 0;    // the publisher's wall clock; TTL and the idempotency window compare it
  std::string data;       // raw JSON text
  std::string publisher;  // opaque bytes (who published), "" = none
  // "" = none. Stored beside the publication in the same transaction, so a retry with the same key
  // after a restart still finds the first result (StoreOptions::idempotency_window_ms).
  std::string idempotency_key;
};

// An idempotency key and the offset its publication got.
struct KeyedOffset {
  std::string key;
  uint64_t offset = 0;
  int64_t time_ms = 0;
};

struct ChannelState {
  std::string epoch;
  uint64_t top_offset = 0;    // the last offset appended; 0 = nothing published in this epoch
  uint64_t first_offset = 1;  // the oldest offset still kept; top_offset + 1 when none is kept
};

// Per channel, given with each append (the namespace's configuration), stored with the channel so
// the background retention pass applies it even to channels nobody publishes to any more.
struct RetentionPolicy {
  uint64_t max_publications = 1000;  // keep the newest N; 0 = no count limit (use ttl_ms then)
  int64_t ttl_ms = 0;                // drop publications older than this; 0 = forever
};

struct StoreOptions {
  // The database file; its directory is created if missing. herald serve: herald-data/history.db.
  std::string path;
  // A batch commits when its first item is this old or when it holds max_batch items. 0: commit as
  // soon as the writer is free, so batches form on their own while the previous commit is being
  // written (group commit: no added latency when idle, big batches under load; PostgreSQL's
  // commit_delay defaults to 0 for the same reason).
  int max_batch_delay_us = 0;
  // Bounds one transaction, so the first callbacks of a huge burst are not held back by the last.
  size_t max_batch = 1024;
  // Appends waiting for the writer; past this append fails at once (the disk cannot keep up and
  // memory must not grow). 64k x ~300 bytes = ~20 MB at worst.
  size_t max_queue = 65536;
  // false: WAL + synchronous=NORMAL: survives a crash of the process (kill -9), not of the OS or
  // power (the last commits before a power loss may be lost, never corrupted). true: every commit
  // is fsync'ed (FULL), much slower per commit, but batches amortize it.
  bool synchronous_full = false;
  // Caps the database file (0 = no cap). Appends past it fail with "database or disk is full",
  // like a full disk; retention keeps working and frees room.
  uint64_t max_size_bytes = 0;
  // The background TTL pass (count limits are applied by each append's own transaction): how
  // often the writer runs it (0 = never) and how many channels with a TTL it visits per run, to
  // bound the writer's pause. A channel's row (epoch, top) is kept when all its history expired.
  int retention_interval_ms = 1000;
  size_t retention_channels_per_pass = 256;
  // Idempotency keys older than this (by their publication's time) are deleted by the retention
  // pass: the broker's window (broker::kIdempotencyWindowMs), past which a key means nothing.
  int64_t idempotency_window_ms = 5 * 60 * 1000;
};

// Counters for /metrics. Thread: any (atomics, read without a lock).
struct StoreStats {
  uint64_t appended = 0;           // publications committed
  uint64_t append_failed = 0;      // appends whose done got an Error
  uint64_t batches = 0;            // transactions committed
  uint64_t retention_removed = 0;  // publications dropped by retention (count and TTL)
  uint64_t queued = 0;             // appends waiting for the writer now
  bool writing = true;             // false while the last batch written failed as a whole
};

class StoreWriter;
class ReadPool;

class HistoryStore {
 public:
  using Done = std::function<void(Result<Ok>)>;

  // Opens (or creates) the database, checks the schema and starts the writer thread. Errors name
  // the path and SQLite's message (unwritable directory, not a database, newer schema...).
  static Result<std::unique_ptr<HistoryStore>> open(const StoreOptions& options);
  // Commits everything queued (running the callbacks), then closes. Thread: not the writer's.
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // The channel's committed epoch, top and first offset. An unknown channel is not created: it
  // gets {an epoch derived from its name and a per-process random salt (the same answer for the
  // life of the process), top 0}, and its first append stores that epoch. So subscribing to
  // random names never writes to the disk. Call it while no append of this channel is in flight
  // (before the owner's first append, or after all their callbacks ran): it reads what is
  // committed. Synchronous; a read, cheap in WAL mode.
  Result<ChannelState> load_channel(std::string_view channel);

  // Queues one publication. `done` runs on the writer thread once the batch holding it has
  // committed (Ok) or failed (Error: disk full, I/O error, queue full, or a broken order). Within a
  // channel, offsets must be exactly top_offset+1, +2, ... of the given epoch; an append whose
  // epoch or offset does not follow fails alone (the rest of its batch commits). After a failed
  // append the stored top stays behind the caller's: the owner should reset_channel() or reload.
  // The policy is stored with the channel; the count limit is applied in the same transaction.
  // The publisher is stored beside the data as opaque bytes and returned as given; the
  // idempotency key is kept even when the count limit drops the publication at once.
  void append(std::string_view channel, std::string_view epoch, NewPublication publication,
              RetentionPolicy policy, Done done);
  void append(std::string_view channel, std::string_view epoch, uint64_t offset, int64_t time_ms,
              std::string data, RetentionPolicy policy, Done done) {
    append(channel, epoch, NewPublication{offset, time_ms, std::move(data), {}, {}}, policy,
           std::move(done));
  }

  // The idempotency keys of the channel's current epoch whose publication time is >= since_ms,
  // newest first, at most limit (0 = no limit). What a broker reloads after a restart so that a
  // retried publish is still answered with its first result. Synchronous.
  Result<std::vector<KeyedOffset>> idempotency_keys(std::string_view channel, int64_t since_ms,
                                                    size_t limit);

  // Publications with offset > after, oldest first, at most limit (0 = no limit). Synchronous.
  // Offsets are contiguous, so `front().offset > after + 1` means the window was lost.
  Result<std::vector<Publication>> read(std::string_view channel, uint64_t after, size_t limit);
  // Publications with offset < before, newest first, at most limit (0 = no limit): the newest
  // page of history (before = UINT64_MAX) or the page below one the caller has. Synchronous.
  Result<std::vector<Publication>> read_reverse(std::string_view channel, uint64_t before,
                                                size_t limit);
  // The oldest offset still kept (top + 1 when none is, 1 for an unknown channel). A client that
  // has offset N of the current epoch can recover iff N + 1 >= first_offset. Synchronous.
  Result<uint64_t> first_offset(std::string_view channel);

  // Starts a new epoch for the channel: history dropped, top 0, a fresh random epoch (never the
  // previous one), committed before it returns. Ordered after every append already queued.
  // Synchronous: waits for the writer.
  Result<ChannelState> reset_channel(std::string_view channel);

  // Names of channels with stored state, in byte order, starting with prefix, after `after`
  // (for paging: pass the last name of the previous page), at most limit. Synchronous.
  Result<std::vector<std::string>> channels(std::string_view prefix = {}, size_t limit = 1000,
                                            std::string_view after = {});

  // Waits until everything queued before the call has committed or failed. For shutdown paths and
  // tests; the hub never needs it.
  Result<Ok> flush();
  // Runs one full retention pass over every channel now (tests; the writer runs bounded passes on
  // its own). Returns the number of publications removed.
  Result<uint64_t> run_retention();

  StoreStats stats() const;
  // How long each batch took to commit (written by the writer thread). Thread: any reads.
  const Histogram& commit_latency() const;
  const StoreOptions& options() const { return options_; }

 private:
  struct Op;
  explicit HistoryStore(const StoreOptions& options);
  void writer_main();
  // Queues task to run on the writer thread after every write queued before it.
  void enqueue_task(std::function<void(StoreWriter&)> task);
  // Runs fn(StoreWriter&) -> Result<T> on the writer thread and waits for its result.
  template <typename T, typename Fn>
  Result<T> on_writer(Fn&& fn);

  StoreOptions options_;
  uint64_t epoch_salt_ = 0;
  std::unique_ptr<StoreWriter> writer_;  // touched only by writer_thread_ after open()
  std::unique_ptr<ReadPool> readers_;
  std::thread writer_thread_;
  std::thread::id writer_id_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Op> queue_;        // guarded by mutex_
  size_t queued_appends_ = 0;    // guarded by mutex_
  bool urgent_ = false;          // guarded by mutex_: a control op waits, skip the batch delay
  bool stopping_ = false;        // guarded by mutex_
  int64_t first_queued_us_ = 0;  // guarded by mutex_: when the oldest queued op arrived
};

}  // namespace herald::store
