#include "transport/topics.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace herald::transport {
namespace {

class FakeSubscriber : public TopicSubscriber {
 public:
  explicit FakeSubscriber(uint64_t id) : id_(id) {}
  void deliver(const Publication& pub) override {
    if (pub.exclude_id != id_) {
      received.push_back(std::string(pub.payload()));
    }
  }
  std::vector<std::string> received;

 private:
  uint64_t id_;
};

TEST(Publication, IsFramedOnceAsAnUnmaskedFrame) {
  auto pub = Publication::make("t", "hello", MessageType::kText, 7);
  EXPECT_EQ(pub->payload(), "hello");
  ASSERT_EQ(pub->plain->size(), 7u);
  EXPECT_EQ(static_cast<uint8_t>((*pub->plain)[0]), 0x81);  // FIN + text
  EXPECT_EQ(static_cast<uint8_t>((*pub->plain)[1]), 5);     // no mask bit
  auto big = Publication::make("t", std::string(70000, 'x'), MessageType::kBinary, 0);
  EXPECT_EQ(big->payload().size(), 70000u);
  EXPECT_EQ(big->header_size, 10u);
}

TEST(TopicIndex, DeliversToSubscribersExceptThePublisher) {
  TopicIndex index;
  FakeSubscriber a(1);
  FakeSubscriber b(2);
  FakeSubscriber c(3);
  index.subscribe(&a, "room");
  index.subscribe(&b, "room");
  index.subscribe(&b, "room");  // twice is once
  index.subscribe(&c, "other");
  EXPECT_EQ(index.deliver(*Publication::make("room", "hi", MessageType::kText, 1)), 2u);
  EXPECT_TRUE(a.received.empty());
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_TRUE(c.received.empty());
  EXPECT_EQ(index.deliver(*Publication::make("nobody", "x", MessageType::kText, 0)), 0u);
}

TEST(TopicIndex, EmptyTopicsAreRemoved) {
  TopicIndex index;
  FakeSubscriber a(1);
  index.subscribe(&a, "x");
  index.subscribe(&a, "y");
  EXPECT_EQ(index.topic_count(), 2u);
  index.unsubscribe(&a, "x");
  EXPECT_EQ(index.topic_count(), 1u);
  index.unsubscribe(&a, "not-subscribed");
  index.unsubscribe_all(&a);
  EXPECT_EQ(index.topic_count(), 0u);
  EXPECT_TRUE(a.memberships().empty());
}

// Random subscribe/unsubscribe/close against a simple model: the swap-remove back references
// must stay exact whatever the order.
TEST(TopicIndex, RandomOperationsMatchAModel) {
  std::mt19937 rng(12345);
  constexpr int kSubscribers = 40;
  constexpr int kTopics = 7;
  TopicIndex index;
  std::vector<std::unique_ptr<FakeSubscriber>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(std::make_unique<FakeSubscriber>(i + 1));
  }
  std::map<std::string, std::set<int>> model;
  for (int step = 0; step < 20000; ++step) {
    int who = static_cast<int>(rng() % kSubscribers);
    std::string topic = "t" + std::to_string(rng() % kTopics);
    switch (rng() % 5) {
      case 0:
      case 1:
        index.subscribe(subs[who].get(), topic);
        model[topic].insert(who);
        break;
      case 2:
      case 3:
        index.unsubscribe(subs[who].get(), topic);
        model[topic].erase(who);
        break;
      default:
        index.unsubscribe_all(subs[who].get());
        for (auto& [name, members] : model) {
          members.erase(who);
        }
        break;
    }
    if (step % 500 == 0) {
      for (auto& s : subs) {
        s->received.clear();
      }
      for (int t = 0; t < kTopics; ++t) {
        std::string name = "t" + std::to_string(t);
        index.deliver(*Publication::make(name, name, MessageType::kText, 0));
      }
      for (int i = 0; i < kSubscribers; ++i) {
        std::set<std::string> expected;
        for (const auto& [name, members] : model) {
          if (members.count(i) != 0) {
            expected.insert(name);
          }
        }
        std::set<std::string> got(subs[i]->received.begin(), subs[i]->received.end());
        ASSERT_EQ(got, expected) << "subscriber " << i << " at step " << step;
        ASSERT_EQ(subs[i]->received.size(), expected.size()) << "delivered twice";
      }
    }
  }
}

}  // namespace
}  // namespace herald::transport
