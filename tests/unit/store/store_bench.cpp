// store_bench: how fast HistoryStore makes publications durable on this machine.
//
//   store_bench [DIR]      (default: a fresh directory under $TMPDIR, removed at the end)
//
// For synchronous NORMAL and FULL and max_batch 1, 64 and 1024 (max_batch_delay_us 0, the
// default: batches form while the previous commit is written), it reports:
//   - throughput: appends/s when appends arrive faster than the disk (a burst), 200-byte
//     payloads round-robin over 64 channels that keep 1000 publications each;
//   - latency: append -> done, p50/p99/max, at a steady 5,000 appends/s for one second.
// Not a ctest test: the figures go to bench/RESULTS.md.

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/history_store.h"

namespace {

using herald::Ok;
using herald::Result;
using herald::store::HistoryStore;
using herald::store::RetentionPolicy;
using herald::store::StoreOptions;
using Clock = std::chrono::steady_clock;

constexpr int kChannels = 64;
constexpr size_t kPayload = 200;

struct Run {
  std::unique_ptr<HistoryStore> store;
  std::vector<std::string> channels;
  std::vector<std::string> epochs;
  std::vector<uint64_t> next;  // next offset per channel
};

bool open_run(const std::string& path, bool full, size_t max_batch, Run& run) {
  std::filesystem::remove_all(path);
  StoreOptions o;
  o.path = path + "/history.db";
  o.synchronous_full = full;
  o.max_batch = max_batch;
  o.max_queue = 10'000'000;
  Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.error().c_str());
    return false;
  }
  run.store = std::move(*s);
  for (int c = 0; c < kChannels; ++c) {
    run.channels.push_back("bench:" + std::to_string(c));
    run.epochs.push_back(run.store->load_channel(run.channels.back())->epoch);
    run.next.push_back(1);
  }
  return true;
}

// Appends n publications, each stamped so its latency is known; `pace` 0 = as fast as possible.
// Returns the wall time from the first append to the last callback, in seconds.
double drive(Run& run, size_t n, double pace_per_s, std::vector<double>* latency_us) {
  std::string data(kPayload, 'x');
  data.front() = '"';
  data.back() = '"';
  std::vector<Clock::time_point> sent(n);
  std::vector<Clock::time_point> acked(n);
  std::atomic<size_t> done{0};
  std::atomic<size_t> failed{0};
  Clock::time_point start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (pace_per_s > 0) {
      Clock::time_point due =
          start +
          std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / pace_per_s));
      std::this_thread::sleep_until(due);
    }
    size_t c = i % kChannels;
    sent[i] = Clock::now();
    run.store->append(run.channels[c], run.epochs[c], run.next[c]++, 0, data, RetentionPolicy{},
                      [&, i](Result<Ok> r) {
                        acked[i] = Clock::now();
                        failed += r.ok() ? 0 : 1;
                        done.fetch_add(1, std::memory_order_release);
                      });
  }
  while (done.load(std::memory_order_acquire) < n) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (failed.load() > 0) {
    fprintf(stderr, "%zu appends failed\n", failed.load());
  }
  Clock::time_point last = *std::max_element(acked.begin(), acked.end());
  if (latency_us != nullptr) {
    latency_us->clear();
    for (size_t i = 0; i < n; ++i) {
      latency_us->push_back(std::chrono::duration<double, std::micro>(acked[i] - sent[i]).count());
    }
    std::sort(latency_us->begin(), latency_us->end());
  }
  return std::chrono::duration<double>(last - start).count();
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = argc > 1 ? argv[1]
                              : (std::filesystem::temp_directory_path() /
                                 ("herald-store-bench-" + std::to_string(::getpid())))
                                    .string();
  printf("store_bench: %d channels, %zu-byte payloads, keep 1000 per channel, dir %s\n", kChannels,
         kPayload, base.c_str());
  printf("%-7s %9s | %12s %10s %8s %8s | %-36s\n", "sync", "max_batch", "appends/s", "avg batch",
         "db MB", "wal MB", "latency at 5,000/s: p50 / p99 / max (us), wal MB");
  for (bool full : {false, true}) {
    for (size_t max_batch : {size_t{1}, size_t{64}, size_t{1024}}) {
      // A burst big enough for ~1-2 s at the expected rate of the configuration.
      size_t n = full && max_batch == 1 ? 3000 : (max_batch == 1 ? 30000 : 300000);
      Run burst;
      if (!open_run(base, full, max_batch, burst)) {
        return 1;
      }
      double seconds = drive(burst, n, 0, nullptr);
      uint64_t batches = burst.store->stats().batches;
      std::error_code ec;
      uintmax_t wal = std::filesystem::file_size(base + "/history.db-wal", ec);
      uintmax_t db = std::filesystem::file_size(base + "/history.db", ec);
      burst.store.reset();

      Run steady;
      if (!open_run(base, full, max_batch, steady)) {
        return 1;
      }
      std::vector<double> latency;
      drive(steady, 5000, 5000, &latency);
      uintmax_t steady_wal = std::filesystem::file_size(base + "/history.db-wal", ec);
      steady.store.reset();

      printf("%-7s %9zu | %12.0f %10.1f %8.1f %8.1f | %10.0f / %8.0f / %8.0f, %.1f\n",
             full ? "FULL" : "NORMAL", max_batch, static_cast<double>(n) / seconds,
             static_cast<double>(n) / static_cast<double>(std::max<uint64_t>(1, batches)),
             static_cast<double>(db) / 1e6, static_cast<double>(wal) / 1e6,
             percentile(latency, 0.5), percentile(latency, 0.99), latency.back(),
             static_cast<double>(steady_wal) / 1e6);
      fflush(stdout);
    }
  }
  std::filesystem::remove_all(base);
  return 0;
}
