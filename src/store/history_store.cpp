#include "store/history_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <utility>

#include "store/epoch.h"
#include "store/sqlite.h"
#include "store/store_writer.h"

namespace herald::store {

namespace {

using Clock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Offsets are stored as SQLite's signed 64-bit integers; larger bounds mean "no bound".
int64_t sql_offset(uint64_t offset) {
  return static_cast<int64_t>(
      std::min<uint64_t>(offset, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
}

int64_t sql_limit(size_t limit) {
  // 0 = no limit; SQLite reads a negative LIMIT as "no limit".
  if (limit == 0 || limit > static_cast<size_t>(std::numeric_limits<int64_t>::max())) {
    return -1;
  }
  return static_cast<int64_t>(limit);
}

// Runs one of the two history reads (bound: `after` or `before`) and collects its rows.
Result<std::vector<Publication>> read_rows(Statement& s, std::string_view channel, uint64_t bound,
                                           size_t limit) {
  Statement::Scope scope(s);
  s.bind(1, channel);
  s.bind(2, sql_offset(bound));
  s.bind(3, sql_limit(limit));
  std::vector<Publication> out;
  for (;;) {
    Result<bool> row = s.step();
    if (!row.ok()) {
      return Error{row.error()};
    }
    if (!*row) {
      break;
    }
    out.push_back(Publication{static_cast<uint64_t>(s.column_int(0)), s.column_int(1),
                              std::string(s.column_blob(2)), std::string(s.column_blob(3))});
  }
  return out;
}

}  // namespace

// One queued write: an append, or a control operation run on the writer between batches.
struct HistoryStore::Op {
  AppendItem append;
  std::function<void(StoreWriter&)> task;
};

// Read connections, one per thread that is reading right now, kept for reuse. A connection is
// never shared by two threads at once, and never the writer's: WAL gives each reader a snapshot
// without blocking the writer. Thread: any.
class ReadPool {
 public:
  struct Conn {
    Database db;
    Statement channel, read, read_reverse, list_all, list_range, keys;
  };

  explicit ReadPool(std::string path) : path_(std::move(path)) {}

  // Runs fn(conn) with a connection of the pool (opened on first need).
  template <typename Fn>
  auto with(Fn&& fn) -> decltype(fn(std::declval<Conn&>())) {
    std::unique_ptr<Conn> conn;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!conn) {
      Result<std::unique_ptr<Conn>> opened = open_conn();
      if (!opened.ok()) {
        return Error{opened.error()};
      }
      conn = std::move(*opened);
    }
    auto result = fn(*conn);
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(std::move(conn));
    }
    return result;
  }

 private:
  // More idle connections than this are closed: a burst of readers must not keep them all open.
  static constexpr size_t kMaxIdle = 16;

  Result<std::unique_ptr<Conn>> open_conn() {
    auto conn = std::make_unique<Conn>();
    Result<Database> db = Database::open(path_, SQLITE_OPEN_READWRITE);
    if (!db.ok()) {
      return Error{db.error()};
    }
    conn->db = std::move(*db);
    sqlite3_busy_timeout(conn->db.handle(), 5000);
    if (Result<Ok> r = conn->db.exec("PRAGMA query_only=1", "set query_only"); !r.ok()) {
      return Error{r.error()};
    }
    struct Entry {
      Statement* stmt;
      const char* sql;
      const char* what;
    };
    const Entry entries[] = {
        {&conn->channel,
         "SELECT c.epoch, c.top_offset, (SELECT seq FROM publications WHERE channel_id = c.id "
         "ORDER BY seq LIMIT 1) FROM channels c WHERE c.name = ?1",
         "load channel"},
        {&conn->read,
         "SELECT p.seq, p.time_ms, p.data, p.publisher FROM channels c JOIN publications p "
         "ON p.channel_id = c.id WHERE c.name = ?1 AND p.seq > ?2 ORDER BY p.seq LIMIT ?3",
         "read history"},
        // The same primary key (channel_id, seq), walked backwards: a newest-first page costs
        // `limit` rows however long the history is.
        {&conn->read_reverse,
         "SELECT p.seq, p.time_ms, p.data, p.publisher FROM channels c JOIN publications p "
         "ON p.channel_id = c.id WHERE c.name = ?1 AND p.seq < ?2 ORDER BY p.seq DESC LIMIT ?3",
         "read history backwards"},
        {&conn->keys,
         "SELECT k.key, k.seq, k.time_ms FROM channels c JOIN idempotency_keys k "
         "ON k.channel_id = c.id WHERE c.name = ?1 AND k.time_ms >= ?2 ORDER BY k.seq DESC "
         "LIMIT ?3",
         "read idempotency keys"},
        {&conn->list_all,
         "SELECT name FROM channels WHERE name > ?1 AND name >= ?2 ORDER BY name LIMIT ?3",
         "list channels"},
        {&conn->list_range,
         "SELECT name FROM channels WHERE name > ?1 AND name >= ?2 AND name < ?3 ORDER BY name "
         "LIMIT ?4",
         "list channels"},
    };
    for (const Entry& e : entries) {
      Result<Statement> s = conn->db.prepare(e.sql, e.what);
      if (!s.ok()) {
        return Error{s.error()};
      }
      *e.stmt = std::move(*s);
    }
    return conn;
  }

  std::string path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mutex_
};

HistoryStore::HistoryStore(const StoreOptions& options) : options_(options) {}

Result<std::unique_ptr<HistoryStore>> HistoryStore::open(const StoreOptions& options) {
  if (options.max_batch == 0 || options.max_queue == 0 || options.max_batch_delay_us < 0) {
    return Error{"history store " + options.path +
                 ": max_batch and max_queue must be at least 1, max_batch_delay_us not negative"};
  }
  std::unique_ptr<HistoryStore> store(new HistoryStore(options));
  Result<std::unique_ptr<StoreWriter>> writer = StoreWriter::open(options);
  if (!writer.ok()) {
    return Error{writer.error()};
  }
  store->writer_ = std::move(*writer);
  store->readers_ = std::make_unique<ReadPool>(options.path);
  // Open one read connection now, so that a database readers cannot use fails here, not later.
  Result<Ok> probe = store->readers_->with([](ReadPool::Conn&) -> Result<Ok> { return Ok{}; });
  if (!probe.ok()) {
    return Error{probe.error()};
  }
  store->epoch_salt_ = random_u64();
  store->writer_thread_ = std::thread([s = store.get()] { s->writer_main(); });
  store->writer_id_ = store->writer_thread_.get_id();
  return store;
}

HistoryStore::~HistoryStore() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_thread_.joinable()) {
    writer_thread_.join();
  }
}

// ---- writes ----

void HistoryStore::append(std::string_view channel, std::string_view epoch,
                          NewPublication publication, RetentionPolicy policy, Done done) {
  Op op;
  AppendItem& item = op.append;
  item.channel = channel;
  item.epoch = epoch;
  item.offset = publication.offset;
  item.time_ms = publication.time_ms;
  item.data = std::move(publication.data);
  item.publisher = std::move(publication.publisher);
  item.idempotency_key = std::move(publication.idempotency_key);
  item.policy = policy;
  item.done = std::move(done);
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queued_appends_ >= options_.max_queue) {
      // Still queued, so that `done` runs on the writer thread like every other answer; without
      // its data it is small.
      item.error = "history store " + options_.path + ": write queue full (" +
                   std::to_string(queued_appends_) + " appends waiting for the disk)";
      item.data = std::string();
      item.publisher = std::string();
      item.idempotency_key = std::string();
    } else {
      ++queued_appends_;
    }
    if (queue_.empty()) {
      first_queued_us_ =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
              .count();
      wake = true;
    }
    queue_.push_back(std::move(op));
    wake = wake || queued_appends_ == options_.max_batch;
  }
  if (wake) {
    wake_.notify_one();
  }
}

void HistoryStore::enqueue_task(std::function<void(StoreWriter&)> task) {
  Op op;
  op.task = std::move(task);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(op));
    urgent_ = true;  // someone is waiting: no batch delay
  }
  wake_.notify_one();
}

template <typename T, typename Fn>
Result<T> HistoryStore::on_writer(Fn&& fn) {
  if (std::this_thread::get_id() == writer_id_) {
    return Error{"history store " + options_.path +
                 ": called from the writer thread (a done callback) would wait for itself"};
  }
  std::promise<Result<T>> promise;
  std::future<Result<T>> future = promise.get_future();
  enqueue_task([&promise, &fn](StoreWriter& w) { promise.set_value(fn(w)); });
  return future.get();
}

Result<ChannelState> HistoryStore::reset_channel(std::string_view channel) {
  std::string name(channel);
  return on_writer<ChannelState>([&name](StoreWriter& w) { return w.reset(name); });
}

Result<Ok> HistoryStore::flush() {
  return on_writer<Ok>([](StoreWriter&) -> Result<Ok> { return Ok{}; });
}

Result<uint64_t> HistoryStore::run_retention() {
  size_t per_pass = std::max<size_t>(1, options_.retention_channels_per_pass);
  return on_writer<uint64_t>([per_pass](StoreWriter& w) -> Result<uint64_t> {
    w.restart_retention();
    uint64_t removed = 0;
    bool wrapped = false;
    while (!wrapped) {
      Result<uint64_t> r = w.retention_pass(per_pass, wall_ms(), &wrapped);
      if (!r.ok()) {
        return r;
      }
      removed += *r;
    }
    return removed;
  });
}

// ---- the writer thread ----

namespace {

void commit_items(StoreWriter& writer, std::vector<AppendItem>& batch) {
  if (batch.empty()) {
    return;
  }
  bool any = false;
  for (const AppendItem& item : batch) {
    any = any || item.error.empty();
  }
  auto started = std::chrono::steady_clock::now();
  Result<Ok> r = any ? writer.write_batch(batch) : Result<Ok>(Ok{});
  if (any) {
    writer.last_batch_ok.store(r.ok(), std::memory_order_relaxed);
    writer.commit_latency.observe_ns(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                             started)
            .count()));
  }
  // Counted before the callbacks run, so whoever a callback wakes sees the counters up to date.
  uint64_t failed = 0;
  for (const AppendItem& item : batch) {
    failed += r.ok() && item.error.empty() ? 0 : 1;
  }
  writer.append_failed.fetch_add(failed, std::memory_order_relaxed);
  for (AppendItem& item : batch) {
    if (!item.done) {
      continue;
    }
    if (r.ok() && item.error.empty()) {
      item.done(Ok{});
    } else {
      item.done(Error{item.error.empty() ? r.error() : item.error});
    }
  }
  batch.clear();
}

}  // namespace

void HistoryStore::writer_main() {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  const bool retention_on = options_.retention_interval_ms > 0;
  const milliseconds retention_every(std::max(1, options_.retention_interval_ms));
  const size_t per_pass = std::max<size_t>(1, options_.retention_channels_per_pass);
  Clock::time_point next_retention = Clock::now() + retention_every;

  std::vector<Op> work;
  std::vector<AppendItem> batch;
  batch.reserve(options_.max_batch);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    while (queue_.empty() && !stopping_) {
      if (!retention_on) {
        wake_.wait(lock);
      } else if (wake_.wait_until(lock, next_retention) == std::cv_status::timeout) {
        break;
      }
    }
    if (!queue_.empty() && !stopping_ && !urgent_ && options_.max_batch_delay_us > 0 &&
        queued_appends_ < options_.max_batch) {
      Clock::time_point deadline(microseconds(first_queued_us_ + options_.max_batch_delay_us));
      wake_.wait_until(lock, deadline, [this] {
        return stopping_ || urgent_ || queued_appends_ >= options_.max_batch;
      });
    }
    if (queue_.empty() && stopping_) {
      break;
    }
    work.swap(queue_);
    queued_appends_ = 0;
    urgent_ = false;
    lock.unlock();

    for (Op& op : work) {
      if (op.task) {
        commit_items(*writer_, batch);  // a control op sees every append queued before it
        op.task(*writer_);
        continue;
      }
      batch.push_back(std::move(op.append));
      if (batch.size() >= options_.max_batch) {
        commit_items(*writer_, batch);
      }
    }
    commit_items(*writer_, batch);
    work.clear();

    if (retention_on && Clock::now() >= next_retention) {
      bool wrapped = false;
      // A failure (disk full, I/O) is retried at the next interval; appends report their own.
      int64_t now = wall_ms();
      (void)writer_->retention_pass(per_pass, now, &wrapped);
      if (options_.idempotency_window_ms > 0) {
        (void)writer_->expire_idempotency_keys(now - options_.idempotency_window_ms);
      }
      next_retention = Clock::now() + retention_every;
    }
    lock.lock();
  }
}

// ---- reads ----

Result<ChannelState> HistoryStore::load_channel(std::string_view channel) {
  return readers_->with([&](ReadPool::Conn& c) -> Result<ChannelState> {
    Statement::Scope scope(c.channel);
    c.channel.bind(1, channel);
    Result<bool> row = c.channel.step();
    if (!row.ok()) {
      return Error{row.error()};
    }
    if (!*row) {
      return ChannelState{derived_epoch(channel, epoch_salt_), 0, 1};
    }
    ChannelState state;
    state.epoch = c.channel.column_text(0);
    state.top_offset = static_cast<uint64_t>(c.channel.column_int(1));
    state.first_offset = c.channel.column_is_null(2)
                             ? state.top_offset + 1
                             : static_cast<uint64_t>(c.channel.column_int(2));
    return state;
  });
}

Result<uint64_t> HistoryStore::first_offset(std::string_view channel) {
  Result<ChannelState> state = load_channel(channel);
  if (!state.ok()) {
    return Error{state.error()};
  }
  return state->first_offset;
}

Result<std::vector<Publication>> HistoryStore::read(std::string_view channel, uint64_t after,
                                                    size_t limit) {
  return readers_->with(
      [&](ReadPool::Conn& c) { return read_rows(c.read, channel, after, limit); });
}

Result<std::vector<Publication>> HistoryStore::read_reverse(std::string_view channel,
                                                            uint64_t before, size_t limit) {
  return readers_->with(
      [&](ReadPool::Conn& c) { return read_rows(c.read_reverse, channel, before, limit); });
}

Result<std::vector<KeyedOffset>> HistoryStore::idempotency_keys(std::string_view channel,
                                                                int64_t since_ms, size_t limit) {
  return readers_->with([&](ReadPool::Conn& c) -> Result<std::vector<KeyedOffset>> {
    Statement::Scope scope(c.keys);
    c.keys.bind(1, channel);
    c.keys.bind(2, since_ms);
    c.keys.bind(3, sql_limit(limit));
    std::vector<KeyedOffset> out;
    for (;;) {
      Result<bool> row = c.keys.step();
      if (!row.ok()) {
        return Error{row.error()};
      }
      if (!*row) {
        break;
      }
      out.push_back(KeyedOffset{std::string(c.keys.column_blob(0)),
                                static_cast<uint64_t>(c.keys.column_int(1)),
                                c.keys.column_int(2)});
    }
    return out;
  });
}

Result<std::vector<std::string>> HistoryStore::channels(std::string_view prefix, size_t limit,
                                                        std::string_view after) {
  // Names starting with prefix are those in [prefix, upper): upper is prefix with its last byte
  // that is not 0xff incremented (no upper bound when there is none).
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) {
    upper.pop_back();
  }
  if (!upper.empty()) {
    upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  }
  return readers_->with([&](ReadPool::Conn& c) -> Result<std::vector<std::string>> {
    Statement& s = upper.empty() ? c.list_all : c.list_range;
    Statement::Scope scope(s);
    s.bind(1, after);
    s.bind(2, prefix);
    if (upper.empty()) {
      s.bind(3, sql_limit(limit));
    } else {
      s.bind(3, std::string_view(upper));
      s.bind(4, sql_limit(limit));
    }
    std::vector<std::string> out;
    for (;;) {
      Result<bool> row = s.step();
      if (!row.ok()) {
        return Error{row.error()};
      }
      if (!*row) {
        break;
      }
      out.emplace_back(s.column_text(0));
    }
    return out;
  });
}

const Histogram& HistoryStore::commit_latency() const { return writer_->commit_latency; }

StoreStats HistoryStore::stats() const {
  StoreStats s;
  s.appended = writer_->appended.load(std::memory_order_relaxed);
  s.append_failed = writer_->append_failed.load(std::memory_order_relaxed);
  s.writing = writer_->last_batch_ok.load(std::memory_order_relaxed);
  s.batches = writer_->batches.load(std::memory_order_relaxed);
  s.retention_removed = writer_->retention_removed.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s.queued = queued_appends_;
  }
  return s;
}

}  // namespace herald::store
