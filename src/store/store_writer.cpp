#include "store/store_writer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "store/epoch.h"

namespace herald::store {

namespace {

// Past this many cached channels the cache is dropped and refilled from the database on demand:
// bounds the writer's memory when millions of channels are published to once.
constexpr size_t kMaxCachedChannels = 65536;
// The WAL is checkpointed in the background past kCheckpointPages (SQLite's own default for its
// inline auto-checkpoint). A WAL starts over from its beginning only when a commit finds it fully
// copied, which a busy writer rarely does while the background copy runs beside it; so past
// kRestartPages, when the background has copied all but kRestartRemainder frames, the writer
// copies that small rest itself (a short pause, one fsync); and past kForceCheckpointPages (the
// bound on the WAL's size: 64 MB of 4 KB pages) it copies whatever is left, however long.
constexpr int kCheckpointPages = 1000;
constexpr int kRestartPages = 4096;
constexpr int kRestartRemainder = 256;
constexpr int kForceCheckpointPages = 16384;
// Rows the TTL pass examines per channel per pass; the rest waits for the next pass.
constexpr int64_t kTtlScanRows = 1024;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS channels(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  epoch TEXT NOT NULL,
  top_offset INTEGER NOT NULL,
  max_publications INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  last_time_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS publications(
  channel_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  data BLOB NOT NULL,
  publisher BLOB,
  PRIMARY KEY(channel_id, seq)) WITHOUT ROWID;
)sql";
// The schema version kSchema creates; the upgrades from there bring a new database up to date.
constexpr int kSchemaBase = 2;

// kUpgrades[v] brings a database of schema version v to v + 1 (a new one gets kSchema, then the
// upgrades from kSchemaBase).
constexpr const char* kUpgrades[] = {
    "",                                                     // 0: see kSchema
    "ALTER TABLE publications ADD COLUMN publisher BLOB;",  // 1 -> 2
    // 2 -> 3: a publish's idempotency key, kept apart from its publication: the count limit may
    // drop the publication at once while the key must answer a retry for the whole window.
    R"sql(
CREATE TABLE IF NOT EXISTS idempotency_keys(
  channel_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  PRIMARY KEY(channel_id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_by_time ON idempotency_keys(time_ms);
)sql",
};
static_assert(std::size(kUpgrades) == kSchemaVersion);

Error os_error(const std::string& path, std::string_view what, int err) {
  return Error{"history store " + path + ": " + std::string(what) + ": " + std::strerror(err)};
}

int64_t to_i64(uint64_t v) {
  return static_cast<int64_t>(v);
}
uint64_t to_u64(int64_t v) {
  return static_cast<uint64_t>(v);
}

}  // namespace

Result<std::unique_ptr<StoreWriter>> StoreWriter::open(const StoreOptions& options) {
  std::unique_ptr<StoreWriter> w(new StoreWriter());
  Result<Ok> r = w->init(options);
  if (!r.ok()) {
    return Error{r.error()};
  }
  return w;
}

StoreWriter::~StoreWriter() {
  checkpointer_.reset();  // before the writer's connection closes and does the last checkpoint
  // Statements must be finalized before the connection closes (close_v2 would defer it anyway).
  begin_ = Statement();
  commit_ = Statement();
  rollback_ = Statement();
  select_channel_ = Statement();
  select_first_ = Statement();
  insert_channel_ = Statement();
  update_channel_ = Statement();
  insert_publication_ = Statement();
  trim_below_ = Statement();
  delete_history_ = Statement();
  reset_channel_ = Statement();
  select_ttl_channels_ = Statement();
  scan_oldest_ = Statement();
  insert_key_ = Statement();
  delete_keys_ = Statement();
  expire_keys_ = Statement();
  db_ = Database();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
  }
}

Result<Ok> StoreWriter::init(const StoreOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) {
    return Error{"history store: no database path given"};
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Error{"history store " + path + ": cannot create directory " + dir.string() + ": " +
                   ec.message()};
    }
  }
  // Two servers writing one history would hand out the same offsets twice: refuse the second.
  // flock is released by the kernel when the process dies, so kill -9 never leaves it stale.
  std::string lock_path = path + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return os_error(path, "cannot open lock file " + lock_path, errno);
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      return Error{"history store " + path + ": in use by another process (lock " + lock_path +
                   ")"};
    }
    return os_error(path, "cannot lock " + lock_path, err);
  }

  Result<Database> db = Database::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) {
    return Error{db.error()};
  }
  db_ = std::move(*db);
  sqlite3_busy_timeout(db_.handle(), 5000);

  Result<std::string> mode = db_.pragma_text("PRAGMA journal_mode=WAL");
  if (!mode.ok()) {
    return Error{mode.error()};
  }
  if (*mode != "wal") {
    return Error{"history store " + path + ": cannot use WAL mode (journal_mode is " + *mode +
                 "; a network file system?)"};
  }
  const char* pragmas = options.synchronous_full
                            ? "PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;"
                            : "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;";
  if (Result<Ok> r = db_.exec(pragmas, "set pragmas"); !r.ok()) {
    return r;
  }

  Result<std::string> version = db_.pragma_text("PRAGMA user_version");
  if (!version.ok()) {
    return Error{version.error()};
  }
  int v = std::atoi(version->c_str());
  if (v > kSchemaVersion) {
    return Error{"history store " + path + ": schema version " + *version +
                 " is newer than this herald's (" + std::to_string(kSchemaVersion) + ")"};
  }
  if (v < kSchemaVersion) {
    // From version 0, the whole schema is created; from an older version, its upgrades run.
    std::string sql = "BEGIN IMMEDIATE;";
    if (v == 0) {
      sql += kSchema;
      v = kSchemaBase;
    }
    for (int from = v; from < kSchemaVersion; ++from) {
      sql += kUpgrades[from];
    }
    sql += "PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;";
    if (Result<Ok> r = db_.exec(sql.c_str(), "create schema"); !r.ok()) {
      (void)db_.exec("ROLLBACK", "rollback");
      return r;
    }
  }
  if (options.max_size_bytes > 0) {
    Result<std::string> page = db_.pragma_text("PRAGMA page_size");
    if (!page.ok()) {
      return Error{page.error()};
    }
    uint64_t page_size = std::max<uint64_t>(512, std::strtoull(page->c_str(), nullptr, 10));
    std::string sql = "PRAGMA max_page_count=" +
                      std::to_string(std::max<uint64_t>(1, options.max_size_bytes / page_size));
    if (Result<std::string> r = db_.pragma_text(sql.c_str()); !r.ok()) {
      return Error{r.error()};
    }
  }
  if (Result<Ok> r = prepare_statements(); !r.ok()) {
    return r;
  }
  Result<std::unique_ptr<Checkpointer>> checkpointer = Checkpointer::start(path);
  if (!checkpointer.ok()) {
    return Error{checkpointer.error()};
  }
  checkpointer_ = std::move(*checkpointer);
  // Replaces SQLite's inline auto-checkpoint (which ran inside the commit).
  sqlite3_wal_hook(db_.handle(), &StoreWriter::on_wal_commit, this);
  return Ok{};
}

int StoreWriter::on_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
  static_cast<StoreWriter*>(self)->wal_pages_ = pages;
  return SQLITE_OK;
}

void StoreWriter::maybe_checkpoint() {
  if (wal_pages_ < kCheckpointPages) {
    return;
  }
  bool force = wal_pages_ >= kForceCheckpointPages;
  bool small_rest =
      wal_pages_ >= kRestartPages && wal_pages_ - checkpointer_->backfilled() <= kRestartRemainder;
  if ((force || small_rest) && checkpointer_->checkpoint_now(db_.handle(), force)) {
    wal_pages_ = 0;
    return;
  }
  checkpointer_->request();
}

Result<Ok> StoreWriter::prepare_statements() {
  struct Entry {
    Statement* stmt;
    const char* sql;
    const char* what;
  };
  const Entry entries[] = {
      {&begin_, "BEGIN IMMEDIATE", "begin"},
      {&commit_, "COMMIT", "commit"},
      {&rollback_, "ROLLBACK", "rollback"},
      {&select_channel_,
       "SELECT id, epoch, top_offset, max_publications, ttl_ms, last_time_ms FROM channels "
       "WHERE name = ?1",
       "select channel"},
      {&select_first_, "SELECT seq FROM publications WHERE channel_id = ?1 ORDER BY seq LIMIT 1",
       "select first offset"},
      {&insert_channel_,
       "INSERT INTO channels(name, epoch, top_offset, max_publications, ttl_ms, last_time_ms) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
       "insert channel"},
      {&update_channel_,
       "UPDATE channels SET top_offset = ?2, max_publications = ?3, ttl_ms = ?4, "
       "last_time_ms = ?5 WHERE id = ?1",
       "update channel"},
      {&insert_publication_,
       "INSERT INTO publications(channel_id, seq, time_ms, data, publisher) "
       "VALUES(?1, ?2, ?3, ?4, ?5)",
       "insert publication"},
      {&trim_below_, "DELETE FROM publications WHERE channel_id = ?1 AND seq <= ?2",
       "trim history"},
      {&delete_history_, "DELETE FROM publications WHERE channel_id = ?1", "drop history"},
      {&reset_channel_, "UPDATE channels SET epoch = ?2, top_offset = 0 WHERE id = ?1",
       "reset channel"},
      {&select_ttl_channels_,
       "SELECT id, name, ttl_ms FROM channels WHERE name > ?1 AND ttl_ms > 0 ORDER BY name "
       "LIMIT ?2",
       "list channels with a ttl"},
      {&insert_key_,
       "INSERT OR REPLACE INTO idempotency_keys(channel_id, key, seq, time_ms) "
       "VALUES(?1, ?2, ?3, ?4)",
       "insert idempotency key"},
      {&delete_keys_, "DELETE FROM idempotency_keys WHERE channel_id = ?1",
       "drop idempotency keys"},
      {&expire_keys_, "DELETE FROM idempotency_keys WHERE time_ms < ?1",
       "expire idempotency keys"},
      {&scan_oldest_,
       "SELECT seq, time_ms FROM publications WHERE channel_id = ?1 ORDER BY seq LIMIT ?2",
       "scan oldest publications"},
  };
  for (const Entry& e : entries) {
    Result<Statement> s = db_.prepare(e.sql, e.what);
    if (!s.ok()) {
      return Error{s.error()};
    }
    *e.stmt = std::move(*s);
  }
  return Ok{};
}

Result<StoreWriter::Channel*> StoreWriter::find(const std::string& name) {
  auto it = cache_.find(name);
  if (it != cache_.end()) {
    return &it->second;
  }
  Channel ch;
  {
    Statement::Scope scope(select_channel_);
    select_channel_.bind(1, name);
    Result<bool> row = select_channel_.step();
    if (!row.ok()) {
      return Error{row.error()};
    }
    if (!*row) {
      return static_cast<Channel*>(nullptr);
    }
    ch.id = select_channel_.column_int(0);
    ch.epoch = select_channel_.column_text(1);
    ch.top = to_u64(select_channel_.column_int(2));
    ch.policy.max_publications = to_u64(select_channel_.column_int(3));
    ch.policy.ttl_ms = select_channel_.column_int(4);
    ch.last_time_ms = select_channel_.column_int(5);
  }
  {
    Statement::Scope scope(select_first_);
    select_first_.bind(1, ch.id);
    Result<bool> row = select_first_.step();
    if (!row.ok()) {
      return Error{row.error()};
    }
    ch.first = *row ? to_u64(select_first_.column_int(0)) : ch.top + 1;
  }
  return &cache_.emplace(name, std::move(ch)).first->second;
}

Result<StoreWriter::Channel*> StoreWriter::create(const std::string& name, std::string_view epoch,
                                                  uint64_t top) {
  RetentionPolicy policy;
  insert_channel_.bind(1, name);
  insert_channel_.bind(2, epoch);
  insert_channel_.bind(3, to_i64(top));
  insert_channel_.bind(4, to_i64(policy.max_publications));
  insert_channel_.bind(5, policy.ttl_ms);
  insert_channel_.bind(6, int64_t{0});
  if (Result<Ok> r = insert_channel_.run(); !r.ok()) {
    return Error{r.error()};
  }
  Channel ch;
  ch.id = sqlite3_last_insert_rowid(db_.handle());
  ch.epoch = epoch;
  ch.top = top;
  ch.first = top + 1;
  ch.policy = policy;
  return &cache_.insert_or_assign(name, std::move(ch)).first->second;
}

Result<StoreWriter::Channel*> StoreWriter::validate(AppendItem& item) {
  if (!item.error.empty()) {
    return static_cast<Channel*>(nullptr);  // refused before it reached the writer (queue full)
  }
  Result<Channel*> found = find(item.channel);
  if (!found.ok()) {
    return found;
  }
  Channel* ch = *found;
  if (ch == nullptr) {
    // First append of a channel with no row: it brings the epoch load_channel gave the owner.
    if (item.offset == 0 || item.epoch.empty()) {
      item.error = "history store: append to " + item.channel + ": offset 0 or empty epoch";
      return static_cast<Channel*>(nullptr);
    }
    Result<Channel*> created = create(item.channel, item.epoch, item.offset - 1);
    if (!created.ok()) {
      return created;
    }
    ch = *created;
  } else if (ch->epoch != item.epoch || item.offset != ch->top + 1) {
    item.error = "history store: append to " + item.channel + ": expected offset " +
                 std::to_string(ch->top + 1) + " of epoch " + ch->epoch + ", got " +
                 std::to_string(item.offset) + " of epoch " + item.epoch;
    return static_cast<Channel*>(nullptr);
  }
  ch->top = item.offset;
  ch->policy = item.policy;
  ch->last_time_ms = item.time_ms;
  return ch;
}

// Offsets up to this are outside the channel's count window once the batch is applied.
uint64_t StoreWriter::last_outside_window(const Channel& ch) {
  uint64_t max = ch.policy.max_publications;
  return max > 0 && ch.top > max ? ch.top - max : 0;
}

Result<Ok> StoreWriter::trim(Channel& ch) {
  uint64_t last_dropped = last_outside_window(ch);
  if (ch.first > last_dropped) {
    return Ok{};
  }
  trim_below_.bind(1, ch.id);
  trim_below_.bind(2, to_i64(last_dropped));
  if (Result<Ok> r = trim_below_.run(); !r.ok()) {
    return r;
  }
  retention_removed.fetch_add(static_cast<uint64_t>(db_.changes()), std::memory_order_relaxed);
  ch.first = last_dropped + 1;
  return Ok{};
}

Result<Ok> StoreWriter::insert_key(const Channel& ch, const AppendItem& item) {
  insert_key_.bind(1, ch.id);
  insert_key_.bind_blob(2, item.idempotency_key);
  insert_key_.bind(3, to_i64(item.offset));
  insert_key_.bind(4, item.time_ms);
  return insert_key_.run();
}

Result<uint64_t> StoreWriter::expire_idempotency_keys(int64_t before_ms) {
  expire_keys_.bind(1, before_ms);
  if (Result<Ok> r = expire_keys_.run(); !r.ok()) {
    return Error{r.error()};
  }
  return static_cast<uint64_t>(db_.changes());
}

Result<Ok> StoreWriter::insert(const Channel& ch, const AppendItem& item) {
  insert_publication_.bind(1, ch.id);
  insert_publication_.bind(2, to_i64(item.offset));
  insert_publication_.bind(3, item.time_ms);
  insert_publication_.bind_blob(4, item.data);
  if (item.publisher.empty()) {
    insert_publication_.bind_null(5);  // most publications come from backends: no publisher
  } else {
    insert_publication_.bind_blob(5, item.publisher);
  }
  return insert_publication_.run();
}

Result<Ok> StoreWriter::update(Channel& ch) {
  // `first` needs no update here: a channel that was empty had first = old top + 1, which is
  // the batch's first offset, and trim() moved it past the window.
  ch.touched = false;
  update_channel_.bind(1, ch.id);
  update_channel_.bind(2, to_i64(ch.top));
  update_channel_.bind(3, to_i64(ch.policy.max_publications));
  update_channel_.bind(4, ch.policy.ttl_ms);
  update_channel_.bind(5, ch.last_time_ms);
  return update_channel_.run();
}

Error StoreWriter::rollback(Error error) {
  if (db_.in_transaction()) {
    (void)rollback_.run();  // SQLite may already have rolled back (SQLITE_FULL does)
  }
  // The cache may hold tops and ids of the rolled-back transaction: forget it all.
  cache_.clear();
  return error;
}

Result<Ok> StoreWriter::write_batch(std::vector<AppendItem>& items) {
  if (cache_.size() > kMaxCachedChannels) {
    cache_.clear();
  }
  if (Result<Ok> r = begin_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  // 1. Check the order of every item and move each channel's top to the end of the batch, so that
  //    the count window is known before anything is written.
  std::vector<Channel*> channel_of(items.size());
  std::vector<Channel*> touched;
  for (size_t i = 0; i < items.size(); ++i) {
    Result<Channel*> ch = validate(items[i]);
    if (!ch.ok()) {
      return rollback(Error{ch.error()});
    }
    channel_of[i] = *ch;
    if (*ch != nullptr && !(*ch)->touched) {
      (*ch)->touched = true;
      touched.push_back(*ch);
    }
  }
  // 2. Trim first, so the inserts reuse the freed pages (a capped database stays under its cap),
  //    then insert only what the window keeps: a burst into a channel that keeps 100 writes at
  //    most 100 rows, though every publication of the burst is acknowledged.
  for (Channel* ch : touched) {
    if (Result<Ok> r = trim(*ch); !r.ok()) {
      return rollback(Error{r.error()});
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    Channel* ch = channel_of[i];
    if (ch == nullptr) {
      continue;
    }
    if (!items[i].idempotency_key.empty()) {
      if (Result<Ok> r = insert_key(*ch, items[i]); !r.ok()) {
        return rollback(Error{r.error()});
      }
    }
    if (items[i].offset <= last_outside_window(*ch)) {
      retention_removed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (Result<Ok> r = insert(*ch, items[i]); !r.ok()) {
      return rollback(Error{r.error()});
    }
  }
  for (Channel* ch : touched) {
    if (Result<Ok> r = update(*ch); !r.ok()) {
      return rollback(Error{r.error()});
    }
  }
  if (Result<Ok> r = commit_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  maybe_checkpoint();
  uint64_t ok = 0;
  for (Channel* ch : channel_of) {
    ok += ch != nullptr ? 1 : 0;
  }
  appended.fetch_add(ok, std::memory_order_relaxed);
  batches.fetch_add(1, std::memory_order_relaxed);
  return Ok{};
}

Result<ChannelState> StoreWriter::reset(std::string_view channel_view) {
  std::string name(channel_view);
  if (Result<Ok> r = begin_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  Result<Channel*> found = find(name);
  if (!found.ok()) {
    return rollback(Error{found.error()});
  }
  Channel* ch = *found;
  std::string epoch = random_epoch(ch == nullptr ? std::string_view() : ch->epoch);
  if (ch == nullptr) {
    Result<Channel*> created = create(name, epoch, 0);
    if (!created.ok()) {
      return rollback(Error{created.error()});
    }
  } else {
    delete_history_.bind(1, ch->id);
    Result<Ok> r = delete_history_.run();
    if (r.ok()) {
      // The keys answered with positions of the old epoch: a retry now publishes anew.
      delete_keys_.bind(1, ch->id);
      r = delete_keys_.run();
    }
    if (r.ok()) {
      reset_channel_.bind(1, ch->id);
      reset_channel_.bind(2, epoch);
      r = reset_channel_.run();
    }
    if (!r.ok()) {
      return rollback(Error{r.error()});
    }
    ch->epoch = epoch;
    ch->top = 0;
    ch->first = 1;
  }
  if (Result<Ok> r = commit_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  return ChannelState{epoch, 0, 1};
}

Result<uint64_t> StoreWriter::retention_pass(size_t max_channels, int64_t now_ms, bool* wrapped) {
  struct Row {
    int64_t id;
    std::string name;
    int64_t ttl_ms;
  };
  std::vector<Row> rows;
  {
    Statement::Scope scope(select_ttl_channels_);
    select_ttl_channels_.bind(1, retention_cursor_);
    select_ttl_channels_.bind(2, static_cast<int64_t>(max_channels));
    for (;;) {
      Result<bool> row = select_ttl_channels_.step();
      if (!row.ok()) {
        return Error{row.error()};
      }
      if (!*row) {
        break;
      }
      rows.push_back({select_ttl_channels_.column_int(0),
                      std::string(select_ttl_channels_.column_text(1)),
                      select_ttl_channels_.column_int(2)});
    }
  }
  *wrapped = rows.size() < max_channels;
  retention_cursor_ = *wrapped ? std::string() : rows.back().name;
  if (rows.empty()) {
    return uint64_t{0};
  }
  if (Result<Ok> r = begin_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  uint64_t removed = 0;
  for (const Row& row : rows) {
    // Offsets grow with time, so the expired rows are a prefix: find its end, delete the range.
    // A clock that stepped back only delays a row until the rows before it have expired.
    int64_t cutoff = now_ms - row.ttl_ms;
    int64_t last_expired = -1;
    {
      Statement::Scope scope(scan_oldest_);
      scan_oldest_.bind(1, row.id);
      scan_oldest_.bind(2, kTtlScanRows);
      for (;;) {
        Result<bool> r = scan_oldest_.step();
        if (!r.ok()) {
          return rollback(Error{r.error()});
        }
        if (!*r || scan_oldest_.column_int(1) >= cutoff) {
          break;
        }
        last_expired = scan_oldest_.column_int(0);
      }
    }
    if (last_expired < 0) {
      continue;
    }
    trim_below_.bind(1, row.id);
    trim_below_.bind(2, last_expired);
    if (Result<Ok> r = trim_below_.run(); !r.ok()) {
      return rollback(Error{r.error()});
    }
    removed += static_cast<uint64_t>(db_.changes());
    if (auto it = cache_.find(row.name); it != cache_.end()) {
      it->second.first = std::max(it->second.first, to_u64(last_expired) + 1);
    }
  }
  if (Result<Ok> r = commit_.run(); !r.ok()) {
    return rollback(Error{r.error()});
  }
  retention_removed.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

}  // namespace herald::store
