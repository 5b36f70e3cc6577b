// HistoryStore's idempotency keys: stored with their publication's offset in the same
// transaction, read back after a reopen (what a restarted broker reloads), kept when the count
// limit drops the publication itself, dropped with the channel's epoch, and expired by time.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/history_store.h"
#include "test_util.h"

namespace herald::store {
namespace {

using testing::open_or_fail;
using testing::options_in;
using testing::TempDir;
using testing::Waiter;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

NewPublication keyed(uint64_t offset, int64_t time_ms, std::string key) {
  return NewPublication{offset, time_ms, "{}", {}, std::move(key)};
}

std::vector<std::pair<std::string, uint64_t>> keys_of(HistoryStore& s, const std::string& channel,
                                                      int64_t since_ms = 0, size_t limit = 0) {
  Result<std::vector<KeyedOffset>> keys = s.idempotency_keys(channel, since_ms, limit);
  EXPECT_TRUE(keys.ok()) << (keys.ok() ? "" : keys.error());
  std::vector<std::pair<std::string, uint64_t>> out;
  if (keys.ok()) {
    for (const KeyedOffset& k : *keys) {
      out.emplace_back(k.key, k.offset);
    }
  }
  return out;
}

TEST(IdempotencyKeys, SurviveAReopenNewestFirst) {
  TempDir dir;
  int64_t now = wall_ms();
  {
    auto s = open_or_fail(options_in(dir));
    ASSERT_TRUE(s);
    Waiter w;
    s->append("c", "E", keyed(1, now, "order-1"), {}, w.callback());
    s->append("c", "E", keyed(2, now, ""), {}, w.callback());  // no key: nothing kept
    s->append("c", "E", keyed(3, now, std::string("bin\0key", 7)), {}, w.callback());
    s->append("d", "E", keyed(1, now, "order-1"), {}, w.callback());  // keys are per channel
    ASSERT_TRUE(w.wait(4));
    ASSERT_EQ(w.ok(), 4u);
  }
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  using Keys = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(keys_of(*s, "c"), (Keys{{std::string("bin\0key", 7), 3}, {"order-1", 1}}));
  EXPECT_EQ(keys_of(*s, "c", 0, 1), (Keys{{std::string("bin\0key", 7), 3}})) << "limit";
  EXPECT_EQ(keys_of(*s, "d"), (Keys{{"order-1", 1}}));
  EXPECT_TRUE(keys_of(*s, "c", now + 1).empty()) << "older than since_ms";
  EXPECT_TRUE(keys_of(*s, "unknown").empty());
}

TEST(IdempotencyKeys, KeptWhenTheCountLimitDropsThePublicationAtOnce) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  Waiter w;
  int64_t now = wall_ms();
  for (uint64_t i = 1; i <= 5; ++i) {
    s->append("small", "E", keyed(i, now, "k" + std::to_string(i)), {2, 0}, w.callback());
  }
  ASSERT_TRUE(w.wait(5));
  ASSERT_EQ(w.ok(), 5u);
  EXPECT_EQ(s->read("small", 0, 0)->size(), 2u) << "only the newest 2 publications are kept";
  EXPECT_EQ(keys_of(*s, "small").size(), 5u) << "but every key answers a retry";
}

TEST(IdempotencyKeys, AResetDropsTheKeysOfTheOldEpoch) {
  TempDir dir;
  auto s = open_or_fail(options_in(dir));
  ASSERT_TRUE(s);
  Waiter w;
  s->append("r", "E", keyed(1, wall_ms(), "k"), {}, w.callback());
  ASSERT_TRUE(w.wait(1));
  ASSERT_EQ(keys_of(*s, "r").size(), 1u);
  ASSERT_TRUE(s->reset_channel("r").ok());
  EXPECT_TRUE(keys_of(*s, "r").empty());
}

TEST(IdempotencyKeys, ExpireAfterTheWindow) {
  TempDir dir;
  StoreOptions o = options_in(dir);
  o.retention_interval_ms = 10;
  o.idempotency_window_ms = 60'000;
  auto s = open_or_fail(o);
  ASSERT_TRUE(s);
  Waiter w;
  int64_t now = wall_ms();
  s->append("x", "E", keyed(1, now - 120'000, "old"), {}, w.callback());
  s->append("x", "E", keyed(2, now, "new"), {}, w.callback());
  ASSERT_TRUE(w.wait(2));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (keys_of(*s, "x").size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  using Keys = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(keys_of(*s, "x"), (Keys{{"new", 2}}));
  EXPECT_EQ(s->read("x", 0, 0)->size(), 2u) << "the publications themselves stay";
}

}  // namespace
}  // namespace herald::store
