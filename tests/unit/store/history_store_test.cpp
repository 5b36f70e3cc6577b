#include "store/history_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "test_util.h"

namespace herald::store {
namespace {

using testing::append_range;
using testing::iota;
using testing::offsets_of;
using testing::open_or_fail;
using testing::options_in;
using testing::payload;
using testing::TempDir;
using testing::Waiter;

bool is_hex16(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(HistoryStore, OpenCreatesMissingDirectories) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.file("a/b/c/history.db");
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  EXPECT_TRUE(std::filesystem::exists(o.path));
}

TEST(HistoryStore, UnknownChannelIsNotStoredAndKeepsItsEpoch) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  Result<ChannelState> a = s->load_channel("news");
  Result<ChannelState> b = s->load_channel("news");
  Result<ChannelState> c = s->load_channel("sport");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(is_hex16(a->epoch)) << a->epoch;
  EXPECT_EQ(a->epoch, b->epoch);
  EXPECT_NE(a->epoch, c->epoch);
  EXPECT_EQ(a->top_offset, 0u);
  EXPECT_EQ(a->first_offset, 1u);
  EXPECT_TRUE(s->channels()->empty());
  EXPECT_EQ(*s->first_offset("news"), 1u);
  EXPECT_TRUE(s->read("news", 0, 0)->empty());
}

TEST(HistoryStore, AppendThenReadInOrder) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  std::string epoch = s->load_channel("chat:1")->epoch;
  ASSERT_EQ(append_range(*s, "chat:1", epoch, 1, 100, {}, 4242), 100u);

  Result<std::vector<Publication>> all = s->read("chat:1", 0, 0);
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(offsets_of(*all), iota(1, 100));
  for (const Publication& p : *all) {
    EXPECT_EQ(p.data, payload(p.offset));
    EXPECT_EQ(p.time_ms, 4242);
  }
  EXPECT_EQ(offsets_of(*s->read("chat:1", 50, 10)), iota(51, 60));
  EXPECT_EQ(offsets_of(*s->read("chat:1", 95, 0)), iota(96, 100));
  EXPECT_TRUE(s->read("chat:1", 100, 0)->empty());
  EXPECT_TRUE(s->read("chat:1", UINT64_MAX, 0)->empty());
  EXPECT_TRUE(s->read("chat:2", 0, 0)->empty());

  ChannelState st = *s->load_channel("chat:1");
  EXPECT_EQ(st.epoch, epoch);  // the first append stored the epoch load_channel handed out
  EXPECT_EQ(st.top_offset, 100u);
  EXPECT_EQ(st.first_offset, 1u);
  EXPECT_EQ(*s->channels(), std::vector<std::string>{"chat:1"});
}

// Both reads, every combination: no bound or one, limit 0 (= none) / smaller / larger than
// what the bound leaves, forward (read) and reverse (read_reverse), on a channel whose kept
// history (3..12) is longer than the limit, beside channels whose rows must not leak in.
TEST(HistoryStore, ReadsForwardAndReverseWithEveryBoundAndLimit) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  ASSERT_EQ(append_range(*s, "a", "E", 1, 5), 5u);  // stored before "c", smaller ids
  ASSERT_EQ(append_range(*s, "c", "E", 1, 12, RetentionPolicy{10, 0}), 12u);
  ASSERT_EQ(append_range(*s, "d", "E", 1, 30), 30u);  // stored after "c", larger ids
  constexpr uint64_t kNone = UINT64_MAX;  // read_reverse: from the newest
  struct Case {
    bool reverse;
    uint64_t bound;
    size_t limit;
    std::vector<uint64_t> offsets;
  };
  const Case cases[] = {
      {false, 0, 0, iota(3, 12)},
      {true, kNone, 0, {12, 11, 10, 9, 8, 7, 6, 5, 4, 3}},
      {false, 0, 2, {3, 4}},
      {true, kNone, 2, {12, 11}},
      {false, 0, 20, iota(3, 12)},
      {true, kNone, 20, {12, 11, 10, 9, 8, 7, 6, 5, 4, 3}},
      {false, 8, 0, {9, 10, 11, 12}},
      {true, 8, 0, {7, 6, 5, 4, 3}},
      {false, 8, 2, {9, 10}},
      {true, 8, 2, {7, 6}},
      {false, 8, 20, {9, 10, 11, 12}},
      {true, 8, 20, {7, 6, 5, 4, 3}},
      {false, 12, 0, {}},
      {true, 3, 0, {}},
      {true, 13, 1, {12}},
      {true, 100, 1, {12}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.reverse ? "read_reverse " : "read ") + std::to_string(c.bound) +
                 " limit " + std::to_string(c.limit));
    Result<std::vector<Publication>> r =
        c.reverse ? s->read_reverse("c", c.bound, c.limit) : s->read("c", c.bound, c.limit);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(offsets_of(*r), c.offsets);
    for (const Publication& p : *r) {
      EXPECT_EQ(p.data, payload(p.offset));
    }
  }
  EXPECT_TRUE(s->read_reverse("never", UINT64_MAX, 0)->empty());
}

TEST(HistoryStore, DataIsKeptByteForByte) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  const std::string cases[] = {std::string(), std::string("a\0b", 3), "\xff\xfe not utf-8",
                               std::string(100000, 'x'), "{\"emoji\":\"\xf0\x9f\x98\x80\"}"};
  Waiter w;
  uint64_t offset = 0;
  for (const std::string& data : cases) {
    s->append("bin", "e1", ++offset, 1, data, {}, w.callback());
  }
  ASSERT_TRUE(w.wait(offset));
  ASSERT_EQ(w.ok(), offset);
  auto pubs = *s->read("bin", 0, 0);
  ASSERT_EQ(pubs.size(), std::size(cases));
  for (size_t i = 0; i < pubs.size(); ++i) {
    EXPECT_EQ(pubs[i].data, cases[i]) << i;
  }
}

TEST(HistoryStore, BrokenOrderFailsAloneAndTheBatchCommits) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_batch_delay_us = 200000;  // one batch for everything below
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  Waiter w;
  std::vector<std::string> seen(8);
  auto record = [&](size_t i) {
    return [&seen, i, cb = w.callback()](Result<Ok> r) {
      seen[i] = r.ok() ? "ok" : r.error();
      cb(std::move(r));
    };
  };
  s->append("c", "E", 1, 1, "1", {}, record(0));
  s->append("c", "E", 3, 1, "3", {}, record(1));  // gap
  s->append("c", "E", 2, 1, "2", {}, record(2));
  s->append("c", "E", 2, 1, "2", {}, record(3));  // duplicate
  s->append("c", "X", 3, 1, "3", {}, record(4));  // wrong epoch
  s->append("c", "E", 3, 1, "3", {}, record(5));
  s->append("d", "E", 0, 1, "0", {}, record(6));  // offset 0 never exists
  s->append("e", "", 1, 1, "1", {}, record(7));   // no epoch
  ASSERT_TRUE(w.wait(8));
  EXPECT_EQ(seen[0], "ok");
  EXPECT_NE(seen[1].find("expected offset 2 of epoch E, got 3 of epoch E"), std::string::npos)
      << seen[1];
  EXPECT_EQ(seen[2], "ok");
  EXPECT_NE(seen[3].find("expected offset 3"), std::string::npos) << seen[3];
  EXPECT_NE(seen[4].find("got 3 of epoch X"), std::string::npos) << seen[4];
  EXPECT_EQ(seen[5], "ok");
  EXPECT_NE(seen[6], "ok");
  EXPECT_NE(seen[7], "ok");
  EXPECT_EQ(offsets_of(*s->read("c", 0, 0)), iota(1, 3));
  EXPECT_EQ(*s->channels(), std::vector<std::string>{"c"});
  EXPECT_EQ(s->stats().appended, 3u);
  EXPECT_EQ(s->stats().append_failed, 5u);
}

TEST(HistoryStore, EpochAndOffsetsSurviveReopen) {
  TempDir dir;
  std::string epoch;
  {
    auto s = open_or_fail(options_in(dir));
    ASSERT_TRUE(s);
    epoch = s->load_channel("room")->epoch;
    ASSERT_EQ(append_range(*s, "room", epoch, 1, 10), 10u);
  }
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  ChannelState st = *s->load_channel("room");
  EXPECT_EQ(st.epoch, epoch);
  EXPECT_EQ(st.top_offset, 10u);
  EXPECT_EQ(offsets_of(*s->read("room", 0, 0)), iota(1, 10));
  // The owner continues where the previous process stopped.
  EXPECT_EQ(append_range(*s, "room", epoch, 11, 12), 2u);
}

TEST(HistoryStore, DestructorCommitsWhatIsQueued) {
  TempDir dir;
  Waiter w;
  {
    StoreOptions o = options_in(dir);
    o.max_batch_delay_us = 10000000;  // only the destructor makes this batch go
    auto s = open_or_fail(o);
    ASSERT_TRUE(s);
    for (uint64_t i = 1; i <= 1000; ++i) {
      s->append("q", "E", i, 1, payload(i), {0, 0}, w.callback());
    }
  }
  EXPECT_TRUE(w.wait(1000));
  EXPECT_EQ(w.ok(), 1000u);
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->load_channel("q")->top_offset, 1000u);
  EXPECT_EQ(s->read("q", 0, 0)->size(), 1000u);
}

TEST(HistoryStore, RetentionByCountKeepsTheNewest) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  RetentionPolicy keep10{10, 0};
  ASSERT_EQ(append_range(*s, "c", "E", 1, 25, keep10), 25u);
  EXPECT_EQ(offsets_of(*s->read("c", 0, 0)), iota(16, 25));
  EXPECT_EQ(*s->first_offset("c"), 16u);
  ChannelState st = *s->load_channel("c");
  EXPECT_EQ(st.first_offset, 16u);
  EXPECT_EQ(st.top_offset, 25u);
  // A read from before the window starts past `after + 1`: the caller sees the hole.
  EXPECT_EQ(s->read("c", 3, 1)->front().offset, 16u);
  // A smaller limit (the namespace was reconfigured) applies with the next append.
  ASSERT_EQ(append_range(*s, "c", "E", 26, 26, RetentionPolicy{5, 0}), 1u);
  EXPECT_EQ(offsets_of(*s->read("c", 0, 0)), iota(22, 26));
  // One by one, a batch per append: the window slides exactly.
  for (uint64_t i = 27; i <= 40; ++i) {
    ASSERT_EQ(append_range(*s, "c", "E", i, i, RetentionPolicy{5, 0}), 1u);
    ASSERT_EQ(offsets_of(*s->read("c", 0, 0)), iota(i - 4, i));
  }
  EXPECT_EQ(s->stats().retention_removed, 35u);
}

TEST(HistoryStore, RetentionCountSurvivesReopen) {
  TempDir dir;
  {
    auto s = open_or_fail(options_in(dir));
    ASSERT_TRUE(s);
    ASSERT_EQ(append_range(*s, "c", "E", 1, 8, RetentionPolicy{4, 0}), 8u);
  }
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  ASSERT_EQ(append_range(*s, "c", "E", 9, 9, RetentionPolicy{4, 0}), 1u);
  EXPECT_EQ(offsets_of(*s->read("c", 0, 0)), iota(6, 9));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(HistoryStore, RetentionByTtlDropsOldPublications) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.retention_interval_ms = 0;  // only run_retention() below
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  RetentionPolicy ttl{0, 60000};
  int64_t old = now_ms() - 120000;
  ASSERT_EQ(append_range(*s, "t", "E", 1, 10, ttl, old), 10u);
  ASSERT_EQ(append_range(*s, "t", "E", 11, 15, ttl, now_ms()), 5u);
  ASSERT_EQ(append_range(*s, "forever", "E", 1, 3, RetentionPolicy{0, 0}, old), 3u);
  Result<uint64_t> removed = s->run_retention();
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_EQ(*removed, 10u);
  EXPECT_EQ(offsets_of(*s->read("t", 0, 0)), iota(11, 15));
  EXPECT_EQ(*s->first_offset("t"), 11u);
  EXPECT_EQ(offsets_of(*s->read("forever", 0, 0)), iota(1, 3));
  // Everything expired: nothing kept, the top and epoch stay.
  ASSERT_EQ(append_range(*s, "t2", "E", 1, 3, ttl, old), 3u);
  EXPECT_EQ(*s->run_retention(), 3u);
  ChannelState st = *s->load_channel("t2");
  EXPECT_EQ(st.epoch, "E");
  EXPECT_EQ(st.top_offset, 3u);
  EXPECT_EQ(st.first_offset, 4u);
  // ...and appending continues after it.
  ASSERT_EQ(append_range(*s, "t2", "E", 4, 4, ttl, now_ms()), 1u);
  EXPECT_EQ(offsets_of(*s->read("t2", 0, 0)), iota(4, 4));
}

TEST(HistoryStore, RetentionByTtlRunsInTheBackground) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.retention_interval_ms = 10;
  o.retention_channels_per_pass = 2;  // several passes needed for the 5 channels
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  for (int c = 0; c < 5; ++c) {
    ASSERT_EQ(append_range(*s, "ch" + std::to_string(c), "E", 1, 3, {0, 1000}, now_ms() - 5000),
              3u);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s->stats().retention_removed < 15 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(s->stats().retention_removed, 15u);
  for (int c = 0; c < 5; ++c) {
    EXPECT_TRUE(s->read("ch" + std::to_string(c), 0, 0)->empty());
  }
}

TEST(HistoryStore, ResetChannelStartsANewEpoch) {
  TempDir dir;
  std::string fresh;
  {
    auto s = open_or_fail(options_in(dir));
    ASSERT_TRUE(s);
    ASSERT_EQ(append_range(*s, "r", "OLD", 1, 5), 5u);
    Result<ChannelState> st = s->reset_channel("r");
    ASSERT_TRUE(st.ok()) << st.error();
    fresh = st->epoch;
    EXPECT_TRUE(is_hex16(fresh));
    EXPECT_EQ(st->top_offset, 0u);
    EXPECT_TRUE(s->read("r", 0, 0)->empty());
    ChannelState loaded = *s->load_channel("r");
    EXPECT_EQ(loaded.epoch, fresh);
    EXPECT_EQ(loaded.top_offset, 0u);
    EXPECT_EQ(loaded.first_offset, 1u);

    Waiter w;
    s->append("r", "OLD", 6, 1, "x", {}, w.callback());  // the old epoch is over
    ASSERT_TRUE(w.wait(1));
    EXPECT_EQ(w.ok(), 0u);
    ASSERT_EQ(append_range(*s, "r", fresh, 1, 2), 2u);
  }
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  ChannelState st = *s->load_channel("r");
  EXPECT_EQ(st.epoch, fresh);
  EXPECT_EQ(st.top_offset, 2u);
  // A reset of a channel never published to stores the new epoch (not the derived one).
  std::string derived = s->load_channel("new")->epoch;
  std::string reset = s->reset_channel("new")->epoch;
  EXPECT_NE(reset, derived);
  EXPECT_EQ(s->load_channel("new")->epoch, reset);
}

TEST(HistoryStore, ResetIsOrderedAfterQueuedAppends) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_batch_delay_us = 10000000;  // the reset must not wait for this
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  Waiter w;
  for (uint64_t i = 1; i <= 100; ++i) {
    s->append("r", "E", i, 1, payload(i), {}, w.callback());
  }
  auto start = std::chrono::steady_clock::now();
  Result<ChannelState> st = s->reset_channel("r");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_TRUE(w.wait(100));
  EXPECT_EQ(w.ok(), 100u);  // all committed before the reset dropped them
  EXPECT_NE(st->epoch, "E");
  EXPECT_TRUE(s->read("r", 0, 0)->empty());
}

TEST(HistoryStore, ControlCallsFromTheWriterThreadFail) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  std::string reset_error, flush_error;
  Waiter w;
  auto cb = w.callback();
  s->append("c", "E", 1, 1, "x", {}, [&, cb](Result<Ok> r) {
    Result<ChannelState> st = s->reset_channel("c");
    reset_error = st.ok() ? "" : st.error();
    Result<Ok> f = s->flush();
    flush_error = f.ok() ? "" : f.error();
    cb(std::move(r));
  });
  ASSERT_TRUE(w.wait(1));
  EXPECT_NE(reset_error.find("writer thread"), std::string::npos);
  EXPECT_NE(flush_error.find("writer thread"), std::string::npos);
}

TEST(HistoryStore, BatchesFollowDelayAndSize) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_batch_delay_us = 300000;
  o.max_batch = 64;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  Waiter w;
  for (uint64_t i = 1; i <= 10; ++i) {
    s->append("b", "E", i, 1, "x", {}, w.callback());
  }
  ASSERT_TRUE(w.wait(10));
  EXPECT_EQ(s->stats().batches, 1u);  // ten appends, one transaction
  // 640 appends reach max_batch long before the delay: transactions of at most 64, so at least
  // 10 of them (more when the writer took a queue of 70 as 64 + 6).
  for (uint64_t i = 11; i <= 650; ++i) {
    s->append("b", "E", i, 1, "x", {}, w.callback());
  }
  ASSERT_TRUE(w.wait(650));
  EXPECT_EQ(w.ok(), 650u);
  EXPECT_GE(s->stats().batches, 11u);
  EXPECT_LE(s->stats().batches, 30u);
}

TEST(HistoryStore, FullQueueFailsAppendsAtOnce) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.max_batch_delay_us = 10000000;
  o.max_queue = 4;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  Waiter w;
  std::atomic<int> off_thread{0};
  std::thread::id me = std::this_thread::get_id();
  for (uint64_t i = 1; i <= 6; ++i) {
    auto cb = w.callback();
    s->append("q", "E", i, 1, "x", {}, [&, cb](Result<Ok> r) {
      off_thread += std::this_thread::get_id() != me ? 1 : 0;
      cb(std::move(r));
    });
  }
  EXPECT_EQ(s->stats().queued, 4u);
  ASSERT_TRUE(s->flush().ok());
  ASSERT_TRUE(w.wait(6));
  EXPECT_EQ(w.ok(), 4u);
  ASSERT_EQ(w.errors().size(), 2u);
  EXPECT_NE(w.errors()[0].find("queue full"), std::string::npos) << w.errors()[0];
  EXPECT_EQ(off_thread.load(), 6);  // every callback on the writer thread, refusals included
}

TEST(HistoryStore, ConcurrentAppendsAndReadsFromSeveralThreads) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 2000;
  std::atomic<bool> writing{true};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (writing.load()) {
      for (int t = 0; t < kThreads; ++t) {
        Result<std::vector<Publication>> r = s->read("ch" + std::to_string(t), 0, 0);
        if (!r.ok()) {
          ++bad_reads;
          continue;
        }
        for (size_t i = 0; i < r->size(); ++i) {  // always a prefix 1..n: no torn batch
          if ((*r)[i].offset != i + 1) {
            ++bad_reads;
            break;
          }
        }
      }
    }
  });
  std::vector<std::thread> writers;
  std::atomic<size_t> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::string name = "ch" + std::to_string(t);
      std::string epoch = s->load_channel(name)->epoch;
      ok += append_range(*s, name, epoch, 1, kPerThread, RetentionPolicy{0, 0});
    });
  }
  for (std::thread& w : writers) {
    w.join();
  }
  writing = false;
  reader.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(bad_reads.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(offsets_of(*s->read("ch" + std::to_string(t), 0, 0)), iota(1, kPerThread));
  }
}

TEST(HistoryStore, ChannelsByPrefixWithPaging) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  std::vector<std::string> names = {"a", "a:1", "a:2", "a:3", "ab", "b:1", "\xff\xff", "\xff\xffz"};
  for (const std::string& n : names) {
    ASSERT_EQ(append_range(*s, n, "E", 1, 1), 1u);
  }
  EXPECT_EQ(*s->channels(), names);
  EXPECT_EQ(*s->channels("a:"), (std::vector<std::string>{"a:1", "a:2", "a:3"}));
  EXPECT_EQ(*s->channels("a:", 2), (std::vector<std::string>{"a:1", "a:2"}));
  EXPECT_EQ(*s->channels("a:", 2, "a:2"), (std::vector<std::string>{"a:3"}));
  EXPECT_EQ(*s->channels("a", 0), (std::vector<std::string>{"a", "a:1", "a:2", "a:3", "ab"}));
  EXPECT_EQ(*s->channels("\xff"), (std::vector<std::string>{"\xff\xff", "\xff\xffz"}));
  EXPECT_TRUE(s->channels("c")->empty());
  EXPECT_EQ(*s->channels({}, 3, "ab"), (std::vector<std::string>{"b:1", "\xff\xff", "\xff\xffz"}));
}

TEST(HistoryStore, SecondOpenOfTheSameFileIsRefused) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  Result<std::unique_ptr<HistoryStore>> again = HistoryStore::open(options_in(dir));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("in use by another process"), std::string::npos) << again.error();
  s.reset();
  EXPECT_TRUE(HistoryStore::open(options_in(dir)).ok());  // the lock went with the store
}

TEST(HistoryStore, UnusablePathsGiveCleanErrors) {
  TempDir dir;
  std::ofstream(dir.file("plain")) << "x";
  struct Case {
    std::string path;
    std::string expect;
  } cases[] = {
      {dir.file("plain/history.db"), "cannot create directory"},
      {"/proc/herald-history.db", "history store /proc/herald-history.db"},
      {"", "no database path"},
  };
  for (const Case& c : cases) {
    StoreOptions o;
    o.path = c.path;
    Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
    ASSERT_FALSE(s.ok()) << c.path;
    EXPECT_NE(s.error().find(c.expect), std::string::npos) << s.error();
  }
  StoreOptions bad = options_in(dir);
  bad.max_batch = 0;
  EXPECT_FALSE(HistoryStore::open(bad).ok());
}

TEST(HistoryStore, NotADatabaseOrANewerSchemaIsRefused) {
  TempDir dir;
  std::string junk = dir.file("junk.db");
  std::ofstream(junk) << std::string(8192, 'j');
  StoreOptions o;
  o.path = junk;
  Result<std::unique_ptr<HistoryStore>> s = HistoryStore::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("not a database"), std::string::npos) << s.error();
  EXPECT_NE(s.error().find(junk), std::string::npos) << s.error();

  std::string newer = dir.file("newer.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  o.path = newer;
  s = HistoryStore::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("schema version 99 is newer"), std::string::npos) << s.error();
}

TEST(HistoryStore, PublisherIsStoredBesideTheDataAndReturnedAsGiven) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  std::string epoch = s->load_channel("who")->epoch;
  const std::string who("\x02" "u1\x00\x03" "c42", 7);  // opaque: embedded NULs survive
  Waiter w;
  s->append("who", epoch, NewPublication{1, 1000, "{\"a\":1}", who, {}}, {}, w.callback());
  s->append("who", epoch, 2, 1001, "{\"b\":2}", {}, w.callback());  // a backend publish
  ASSERT_TRUE(w.wait(2));
  ASSERT_EQ(w.ok(), 2u);
  auto rows = s->read("who", 0, 0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].publisher, who);
  EXPECT_EQ((*rows)[1].publisher, "");
}

// A data directory written by the first schema (no publisher column) is upgraded in place: its
// history stays, and new appends carry their publisher.
TEST(HistoryStore, SchemaVersion1IsUpgraded) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  std::filesystem::create_directories(std::filesystem::path(o.path).parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  const char* v1 =
      "CREATE TABLE channels(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT "
      "NULL, top_offset INTEGER NOT NULL, max_publications INTEGER NOT NULL, ttl_ms INTEGER NOT "
      "NULL, last_time_ms INTEGER NOT NULL);"
      "CREATE TABLE publications(channel_id INTEGER NOT NULL, seq INTEGER NOT NULL, time_ms "
      "INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(channel_id, seq)) WITHOUT ROWID;"
      "INSERT INTO channels VALUES(1, 'old', 'e1', 1, 1000, 0, 5);"
      "INSERT INTO publications VALUES(1, 1, 5, '\"kept\"');"
      "PRAGMA user_version=1;";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  auto st = s->load_channel("old");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->epoch, "e1");
  EXPECT_EQ(st->top_offset, 1u);
  Waiter w;
  s->append("old", "e1", NewPublication{2, 6, "\"new\"", "me", {}}, {}, w.callback());
  ASSERT_TRUE(w.wait(1));
  ASSERT_EQ(w.ok(), 1u) << (w.errors().empty() ? "" : w.errors().front());
  auto rows = s->read("old", 0, 0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].data, "\"kept\"");
  EXPECT_EQ((*rows)[0].publisher, "") << "rows of the old schema have none";
  EXPECT_EQ((*rows)[1].publisher, "me");
  // Upgraded through every version: the idempotency keys of version 3 work too.
  s->append("old", "e1", NewPublication{3, 7, "{}", {}, "key-3"}, {}, w.callback());
  ASSERT_TRUE(w.wait(2));
  auto keys = s->idempotency_keys("old", 0, 0);
  ASSERT_TRUE(keys.ok()) << keys.error();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->front().offset, 3u);
}

TEST(HistoryStore, SynchronousFullWorksToo) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.synchronous_full = true;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  ASSERT_EQ(append_range(*s, "f", "E", 1, 20), 20u);
  EXPECT_EQ(s->read("f", 0, 0)->size(), 20u);
}

}  // namespace
}  // namespace herald::store
