#pragma once
// MemoryBroker: the in-process broker, the embedded default for one node. Every channel is owned
// by one event loop (hash of its name); the owner assigns offsets, keeps the channel's history
// (in memory, bounded by count and age; or durably in a store::HistoryStore, when given one),
// and fans each publication out to the loops that subscribed, through their task queues.
// With a store, a publication is fanned out and acknowledged only once it is committed, and
// offsets and epochs continue across restarts (SIGTERM or kill -9). Requests from other loops reach the owner the same way, so the
// owner's queue puts publish, subscribe and history reads in one order: that is what makes the
// Broker contract (see broker.h) hold without locks.
// Thread: the Broker methods may be called from any loop thread; each shard is touched only by
// its owner loop.

#include <cstdint>
#include <deque>
#include <utility>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"
#include "net/event_loop.h"

namespace herald::store {
class HistoryStore;
}

namespace herald::broker {

class MemoryBroker final : public Broker {
 public:
  // A batch is sent early past either bound, which keeps frames (and the memory one
  // subscriber's queue takes at once) moderate.
  static constexpr size_t kMaxBatch = 256;
  static constexpr size_t kMaxBatchBytes = 256 << 10;

  // loops[i] is the loop with index i; they (and the store, if any) must outlive the broker.
  // policy: each channel's history options (default: HistoryOptions{} for every channel).
  explicit MemoryBroker(std::vector<net::EventLoop*> loops, store::HistoryStore* store = nullptr,
                        HistoryPolicy policy = {});
  ~MemoryBroker() override;

  void attach(int loop_index, BrokerSink* sink) override;
  void publish(int loop_index, std::string_view channel, PublishRequest request,
               PublishCallback done) override;
  void subscribe(int loop_index, std::string_view channel, SubscribeCallback done) override;
  void unsubscribe(int loop_index, std::string_view channel) override;
  void read_history(int loop_index, std::string_view channel, const HistoryQuery& query,
                    HistoryCallback done) override;

  void presence_add(int loop_index, std::string_view channel, ClientInfo who, bool announce,
                    size_t limit, AddedCallback done) override;
  void presence_remove(int loop_index, std::string_view channel, std::string_view client,
                       bool announce) override;
  void presence(int loop_index, std::string_view channel, PresenceCallback done) override;
  void presence_stats(int loop_index, std::string_view channel,
                      PresenceStatsCallback done) override;

  // The loop that owns channel (stable for the life of the process).
  int owner_of(std::string_view channel) const;

 private:
  struct Channel {
    StreamTop top;
    std::deque<std::shared_ptr<const PublicationRecord>> history;
    std::vector<uint32_t> subscribed;  // per loop: how many subscribe() calls are in force
    HistoryOptions options;            // from the policy, when the channel was first met
    bool durable = false;              // options.durable and the broker has a store
    // Idempotency keys of the window, oldest first, and the result each one got.
    std::deque<std::pair<int64_t, std::string>> key_order;
    std::unordered_map<std::string, PublishResult> key_results;
    std::unordered_map<std::string, ClientInfo> presence;  // by client id
    // With a store: the last offset committed and fanned out (top.offset may run ahead while
    // appends are in flight), appends in flight, and a generation bumped on every reset so that
    // late callbacks of the old epoch are recognised.
    uint64_t committed = 0;
    uint32_t in_flight = 0;
    uint64_t generation = 0;
    // Publications of this owner turn not yet sent to the subscribed loops (see fan_out), and
    // the epoch they belong to.
    PublicationBatch outbox;
    std::string outbox_epoch;
    size_t outbox_bytes = 0;
  };
  struct Shard {
    std::unordered_map<std::string, Channel, StringHash, std::equal_to<>> channels;
    BrokerSink* sink = nullptr;
    std::mt19937_64 rng{std::random_device{}()};
    // Hashes of the names of in-memory channels forgotten after something was published in them:
    // their next incarnation restarts offsets at 1, so it must not reuse the name's epoch.
    std::unordered_set<uint64_t> retired;
    // Channels with a non-empty outbox, and whether flush_outboxes is queued.
    std::vector<std::string> to_flush;
    bool flush_scheduled = false;
  };

  Channel& channel(int owner, std::string_view name);
  void load_idempotency_keys(Channel& c, std::string_view name);
  Channel* find(int owner, std::string_view name);
  void release_if_unused(int owner, const std::string& name);
  // Sends a join or leave to every loop subscribed to the channel.
  void announce(const Channel& c, const std::string& name, const ClientInfo& who, bool join);
  void trim(Channel& c, int64_t now_ms);
  static int64_t now_ms();
  void fan_out(int owner, Channel& c, const std::string& name,
               std::shared_ptr<const PublicationRecord> rec);
  // Sends the channel's outbox to its subscribed loops as one batch.
  void flush_outbox(Channel& c, const std::string& name);
  void flush_outboxes(int owner);
  // A commit's answer on its way from the store's writer thread to the channel's owner.
  struct Committed {
    int loop_index;
    std::string name;
    uint64_t generation;
    std::shared_ptr<const PublicationRecord> rec;
    Result<Ok> result;
    PublishCallback done;
  };
  // Per owner loop: answers not yet taken by the owner. Thread: the writer adds, the owner takes.
  struct CommitBox {
    std::mutex mutex;
    std::vector<Committed> items;  // guarded by mutex
    bool scheduled = false;        // a drain task is posted; guarded by mutex
  };
  void hand_back(int owner, Committed item);  // Thread: the store's writer
  void drain_commits(int owner);
  void on_committed(int owner, int loop_index, const std::string& name, uint64_t generation,
                    std::shared_ptr<const PublicationRecord> rec, Result<Ok> r,
                    PublishCallback done);
  // History of a durable channel from the store, up to what was fanned out (c.committed).
  Result<HistoryResult> read_durable(Channel& c, const std::string& name,
                                     const HistoryQuery& query);
  // History of an in-memory channel from its deque (already trimmed).
  static std::vector<PublicationRecord> read_memory(const Channel& c, const HistoryQuery& query);
  template <typename T>
  void reply(int loop_index, std::function<void(T)> done, T value);

  std::vector<net::EventLoop*> loops_;
  store::HistoryStore* store_;
  HistoryPolicy policy_;
  std::vector<Shard> shards_;
  std::vector<std::unique_ptr<CommitBox>> commit_boxes_;  // index: owner loop
  const uint64_t epoch_seed_;  // random per process: epochs of one process are its own
};

}  // namespace herald::broker
