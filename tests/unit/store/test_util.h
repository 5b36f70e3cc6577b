#pragma once
// Helpers shared by the store tests: a temporary directory removed at the end of the test, and
// Waiter, which collects the results of append callbacks (they run on the writer thread).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "store/history_store.h"

namespace herald::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "herald-store-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    } else {
      path_ = made;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Counts callbacks and keeps every error message, in callback order.
class Waiter {
 public:
  HistoryStore::Done callback() {
    return [this](Result<Ok> r) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++done_;
      if (r.ok()) {
        ++ok_;
      } else {
        errors_.push_back(r.error());
      }
      cv_.notify_all();
    };
  }
  // Waits until n callbacks ran in total (false after 20 s, so a lost callback fails, not hangs).
  bool wait(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done_ >= n; });
  }
  size_t ok() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ok_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  size_t done_ = 0;
  size_t ok_ = 0;
  std::vector<std::string> errors_;
};

inline StoreOptions options_in(const TempDir& dir) {
  StoreOptions o;
  o.path = dir.file("data/history.db");
  return o;
}

inline std::unique_ptr<HistoryStore> open_or_fail(const StoreOptions& o) {
  Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
  if (!s.ok()) {
    ADD_FAILURE() << s.error();
    return nullptr;
  }
  return std::move(*s);
}

inline std::string payload(uint64_t offset) {
  return "{\"n\":" + std::to_string(offset) + "}";
}

// Appends offsets [from, to] to channel with payload(offset) and waits for them.
inline size_t append_range(HistoryStore& s, const std::string& channel, const std::string& epoch,
                           uint64_t from, uint64_t to, RetentionPolicy policy = {},
                           int64_t time_ms = 1000) {
  Waiter w;
  for (uint64_t i = from; i <= to; ++i) {
    s.append(channel, epoch, i, time_ms, payload(i), policy, w.callback());
  }
  EXPECT_TRUE(w.wait(to - from + 1));
  for (const std::string& e : w.errors()) {
    ADD_FAILURE() << e;
  }
  return w.ok();
}

inline std::vector<uint64_t> offsets_of(const std::vector<Publication>& pubs) {
  std::vector<uint64_t> out;
  for (const Publication& p : pubs) {
    out.push_back(p.offset);
  }
  return out;
}

inline std::vector<uint64_t> iota(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i <= to; ++i) {
    out.push_back(i);
  }
  return out;
}

}  // namespace herald::store::testing
