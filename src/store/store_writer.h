#pragma once
// StoreWriter: the history store's only writing connection and what it knows about each channel
// (id, epoch, top, oldest kept offset, retention policy), cached so that a steady stream of appends
// costs one INSERT per publication plus one UPDATE (and at most one trimming DELETE) per channel
// per batch. Also creates the database and its schema. Owned by HistoryStore.
// Thread: HistoryStore's writer thread only (open() runs before that thread starts).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/histogram.h"
#include "base/result.h"
#include "store/checkpointer.h"
#include "store/history_store.h"
#include "store/sqlite.h"

namespace herald::store {

// The schema both connections agree on. Offsets are stored as `seq` (OFFSET is an SQL keyword).
// Channels get a small integer id so that publications do not repeat the channel's name.
// 1: the first schema. 2: publications.publisher (who published; NULL for older rows).
// 3: idempotency_keys (a retried publish finds its first result after a restart).
inline constexpr int kSchemaVersion = 3;

struct AppendItem {
  std::string channel;
  std::string epoch;
  uint64_t offset = 0;
  int64_t time_ms = 0;
  std::string data;
  std::string publisher;
  std::string idempotency_key;  // "" = none
  RetentionPolicy policy;
  HistoryStore::Done done;
  std::string error;  // set by write_batch for an append that failed alone (a broken order)
};

class StoreWriter {
 public:
  // Creates the directory, takes the data directory's lock, opens the database in WAL mode and
  // creates or checks the schema.
  static Result<std::unique_ptr<StoreWriter>> open(const StoreOptions& options);
  ~StoreWriter();

  // Appends the items in one transaction. Items whose order is broken get `error` set and are
  // skipped; any other failure rolls the whole batch back and is returned (then no item was
  // stored).
  Result<Ok> write_batch(std::vector<AppendItem>& items);
  // New random epoch, top 0, history dropped, committed.
  Result<ChannelState> reset(std::string_view channel);
  // Applies TTLs to at most max_channels channels (continuing where the last pass stopped).
  // *wrapped tells whether the pass reached the last channel. Returns publications removed.
  Result<uint64_t> retention_pass(size_t max_channels, int64_t now_ms, bool* wrapped);
  // Deletes the idempotency keys whose publication time is before before_ms. Returns how many.
  Result<uint64_t> expire_idempotency_keys(int64_t before_ms);
  // The next pass starts again from the first channel.
  void restart_retention() { retention_cursor_.clear(); }

  std::atomic<uint64_t> appended{0};
  std::atomic<uint64_t> append_failed{0};
  // False while the last batch written failed as a whole (disk full, I/O error): /ready.
  std::atomic<bool> last_batch_ok{true};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> retention_removed{0};
  // How long each batch's transaction took, BEGIN to COMMIT (what an append waits for once its
  // batch is taken): herald_store_commit_seconds.
  Histogram commit_latency;

 private:
  struct Channel {
    int64_t id = 0;
    std::string epoch;
    uint64_t top = 0;
    uint64_t first = 1;  // top + 1 when nothing is kept
    RetentionPolicy policy;
    int64_t last_time_ms = 0;
    bool touched = false;  // appended to in the current batch
  };

  StoreWriter() = default;
  Result<Ok> init(const StoreOptions& options);
  Result<Ok> prepare_statements();
  // The channel from the cache or the database; nullptr when it has no row yet.
  Result<Channel*> find(const std::string& name);
  Result<Channel*> create(const std::string& name, std::string_view epoch, uint64_t top);
  // Checks the item's epoch and offset against its channel and advances the channel's top.
  // nullptr (with item.error set) when the item fails alone.
  Result<Channel*> validate(AppendItem& item);
  static uint64_t last_outside_window(const Channel& ch);
  Result<Ok> trim(Channel& ch);
  Result<Ok> insert(const Channel& ch, const AppendItem& item);
  Result<Ok> insert_key(const Channel& ch, const AppendItem& item);
  Result<Ok> update(Channel& ch);
  // Rolls back the open transaction (if any), forgets the cache, and returns error.
  Error rollback(Error error);

  // Called by SQLite on the writer thread after each commit with the WAL's length in pages.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  // After a commit: has the WAL checkpointed in the background, or here when it grew too long.
  void maybe_checkpoint();

  Database db_;
  int lock_fd_ = -1;
  std::unique_ptr<Checkpointer> checkpointer_;
  int wal_pages_ = 0;  // the WAL's length after the last commit
  std::unordered_map<std::string, Channel> cache_;
  std::string retention_cursor_;  // the last channel name the retention pass visited

  Statement begin_, commit_, rollback_;
  Statement select_channel_, select_first_, insert_channel_, update_channel_;
  Statement insert_publication_, trim_below_, delete_history_, reset_channel_;
  Statement select_ttl_channels_, scan_oldest_;
  Statement insert_key_, delete_keys_, expire_keys_;
};

}  // namespace herald::store
