#pragma once
// RedisBroker: the broker for several nodes, over one Redis or several independent ones
// (shards: each channel lives on one, chosen by consistent hashing of its name, so adding a
// shard moves about 1/N of the channels). Each channel's order, history, meta and
// idempotency keys live in Redis and change only through Lua scripts (redis_scripts.h), so every
// node sees one order; publications reach the nodes through Redis pub/sub, one SUBSCRIBE per
// channel per node (however many loops and clients want it), and each loop still encodes a batch
// once for all its subscribers.
//
// Where its work runs: one event loop of its own (the "Redis loop", its own thread), holding two
// connections (RedisConnection) per shard: one for commands (pipelined scripts) and one in
// subscriber mode. What is not a channel's lives on the first shard (the nodes' registry and
// messages) or is hashed like a channel (a user's connection count).
// Broker methods, called on the hub loops, post to it; answers and publications are posted back
// to the loops. Keeping Redis I/O on one loop keeps the hub loops free of Redis parsing and makes
// the ordering argument below a matter of one thread's program order.
//
// The contract (broker.h), and why it holds:
//  1. One order: the publish script assigns offset top+1, appends to the stream and PUBLISHes
//     in one atomic step inside Redis.
//  2. After subscribe() completes, every later publication arrives exactly once, in order.
//     subscribe() completes only after (a) Redis confirmed our SUBSCRIBE, from when on Redis
//     sends us every PUBLISH it executes, and (b) a position read (epoch, top T) that Redis ran
//     after that SUBSCRIBE. Publications after the read have offsets above T and all reach us;
//     the node filters its channel's stream: offsets <= the last delivered are dropped, the next
//     one is delivered, and anything else (a gap, another epoch) is a broken stream: the loops
//     get on_lost and their members recover by resubscribing. A dropped subscriber connection
//     breaks every stream the same way; nothing is ever skipped silently.
//  3. A history read is one script (one instant). Its publications may arrive on pub/sub after
//     its answer (two connections), and the hub, once a member is live, no longer drops
//     duplicates; so a read of a channel this node is subscribed to is answered only once the
//     node has delivered everything up to the read's top: every publication in a read was sent
//     to the loops before the read's answer, as with the memory broker. Whatever pub/sub brings
//     before the answer is buffered by the hub and dropped by offset.
// Redis lost a channel (restart without persistence, eviction, meta expiry): the next publish
// finds no meta and starts a new epoch at offset 1; nodes see the epoch change in the stream
// (on_lost: members resubscribe and get recovered: false with the new epoch).
// While Redis is unreachable or paused, every call fails fast (or after the command timeout for
// commands already sent): the server answers 501. The connections reconnect with backoff; the
// subscriber resubscribes every channel the node holds.
//
// Presence: a hash and a lease zset per channel in Redis, shared by all nodes; each node renews
// the leases of the members it added every lease/3 (and puts back any Redis lost), so the
// members of a node that died expire after at most the lease; every node sweeps the channels it
// follows every lease/3, and the sweep publishes their leaves (when the namespace announces
// joins and leaves), so the survivors' subscribers hear them within lease + lease/3.
//
// The nodes: each has a random id, announces itself every 2 s in a zset of leases (6 s), and
// listens on two pub/sub channels, its own and every node's, for the messages of the server's
// cluster layer (Broker::send_to_node).
//
// Holds (Broker::hold, for what is decided once per cluster): a zset of leases per key on the
// home shard, renewed with the presence; every node sweeps for keys whose holders all stopped
// renewing, and the one whose sweep ends such a key tells its HoldSink.
//
// Files: redis_broker.cpp (start, scripts, publish, history, connections),
// redis_broker_stream.cpp (subscriptions and the fan-out stream), redis_broker_presence.cpp,
// redis_broker_nodes.cpp, redis_broker_topology.cpp (a Redis Cluster changing after the start),
// redis_broker_holds.cpp.
// Thread: Broker methods from any hub loop (they post to the Redis loop); start()/stop() from
// the thread that owns the broker.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"
#include "broker/redis_cluster.h"
#include "broker/redis_connection.h"
#include "broker/redis_scripts.h"
#include "net/event_loop.h"

namespace herald::broker {

struct RedisBrokerOptions {
  // One Redis, or several independent ones that share the channels (the first also carries the
  // nodes' registry and messages). Every node must list the same shards (in any order).
  std::vector<RedisUrl> shards;
  // A Redis Cluster (redis_cluster.h): shards are its masters and this maps each of the 16384
  // slots to one of them (empty: independent shards, by consistent hashing).
  std::vector<uint32_t> cluster_slots;
  // Every key and pub/sub channel starts with "<prefix>:", so several Herald clusters (or tests)
  // share one Redis without seeing each other's channels.
  std::string prefix = "herald";
  uint32_t command_timeout_ms = 1'000;  // a reply later than this: the call fails (501)
  uint32_t presence_lease_ms = 60'000;  // a member not renewed for this long is gone
  // The TLS client context of rediss:// shards (net::TlsContext::load_client); null without one.
  std::shared_ptr<const net::TlsContext> tls;
};

class RedisBroker final : public Broker, private RedisConnection::Listener {
 public:
  static constexpr size_t kMaxBatch = 256;
  static constexpr size_t kMaxBatchBytes = 256 << 10;
  // Publications a channel whose Redis Cluster slot moved may catch up from history (more: the
  // stream is broken and its clients recover by themselves).
  static constexpr size_t kMaxCatchUp = 10'000;

  // loops[i] is the hub loop with index i; they must outlive the broker.
  RedisBroker(std::vector<net::EventLoop*> loops, RedisBrokerOptions options,
              HistoryPolicy policy = {});
  ~RedisBroker() override;

  // Starts the Redis loop's thread and the connections (it does not wait for Redis: until it
  // answers, calls fail with 501).
  Result<Ok> start();
  // Closes the connections and joins the thread. Callbacks not yet answered are dropped.
  void stop();
  // Both connections are up. Thread: any.
  bool ready() const override { return ready_.load(std::memory_order_relaxed); }

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
  void user_admit(int loop_index, std::string_view user, std::string_view client, size_t limit,
                  AddedCallback done) override;
  void user_release(std::string_view user, std::string_view client) override;
  std::string_view node_id() const override { return node_id_; }
  // Its connections' figures for /metrics. Thread: any (read-only).
  const RedisMetrics& metrics() const { return metrics_; }
  std::vector<std::string> nodes() const override;
  void set_node_sink(NodeSink* sink) override { node_sink_ = sink; }
  void send_to_node(std::string_view to, std::string payload) override;
  void hold(int loop_index, std::string_view key, HoldCallback done) override;
  void release(int loop_index, std::string_view key, HoldCallback done) override;
  void set_hold_sink(HoldSink* sink) override { hold_sink_ = sink; }

  // How often a node renews its entry in the zset of nodes, and how long the entry lasts.
  static constexpr uint32_t kNodeAnnounceMs = 2'000;
  static constexpr uint32_t kNodeLeaseMs = 6'000;
  // Redis Cluster: how often a node asks for the slot map while a master with slots is down.
  static constexpr uint32_t kTopologyCheckMs = 1'000;

 private:
  // The node's view of one channel it is subscribed to. Thread: the Redis loop.
  struct NodeChannel {
    enum class State : uint8_t { kUnsubscribed, kSubscribing, kPositioning, kLive };
    State state = State::kUnsubscribed;
    std::vector<uint32_t> subscribed;  // per loop: subscribe() calls in force (or waiting)
    std::vector<std::pair<int, SubscribeCallback>> waiting;  // answered once live
    std::string epoch;        // of the last delivered publication (or the position read)
    uint64_t last = 0;        // last offset delivered to the loops
    uint64_t generation = 0;  // bumped when a position read is superseded
    // Redis Cluster: the slot moved to another master while live (Redis unsubscribed us): the
    // position read after the new SSUBSCRIBE also fetches what was published since `last`, so
    // the stream goes on without a break when the history still has it.
    bool moved = false;
    // Publications that came while positioning, checked once the position is known.
    std::vector<std::shared_ptr<const PublicationRecord>> early;
    std::vector<std::string> early_epochs;
    PublicationBatch outbox;  // delivered at the end of this loop turn
    size_t outbox_bytes = 0;
    // History reads answered once `last` reaches their top (contract 3).
    struct HeldRead {
      uint64_t top;
      int loop;
      HistoryCallback done;
      HistoryResult result;
    };
    std::vector<HeldRead> held;
  };

  // One Redis of the deployment: its two connections and the subscriber's bookkeeping.
  struct Shard {
    RedisUrl url;
    std::unique_ptr<RedisConnection> cmd;
    std::unique_ptr<RedisConnection> sub;
    // SUBSCRIBE/UNSUBSCRIBE sent on sub and not yet confirmed, per channel: a confirmation
    // counts only when it is the last one outstanding (a quick unsubscribe-subscribe must not
    // look live early).
    std::unordered_map<std::string, int, StringHash, std::equal_to<>> unconfirmed;
    std::deque<std::string> sent_order;  // channels of those commands, in the order sent
    // The last failure logged per connection: a connection that keeps failing the same way
    // (Redis down, a certificate refused) logs it once, not at every retry.
    std::string cmd_failure;
    std::string sub_failure;
    // Redis Cluster: calls redirected (MOVED/ASK) to this master before its command connection
    // was up (a master added after the start); run with true once it is, false if it fails.
    std::vector<std::function<void(bool)>> when_ready;
    bool ready() const { return cmd->ready() && sub->ready(); }
  };

  // A shard's two connections (not started); its index. Thread: the constructor, then the Redis
  // loop (a Redis Cluster master found after the start).
  uint32_t add_shard(const RedisUrl& url);
  // Redis Cluster topology at run time (redis_broker_topology.cpp). A MOVED or ASK error: the
  // index of the master it names (added, and started, when this node did not know it), the
  // slot map updated for MOVED; nothing when the error is not a redirection.
  std::optional<uint32_t> follow_redirect(std::string_view error);
  // The shard of the master at host:port, added (and started) when the node did not know it.
  uint32_t master_at(std::string_view host, uint16_t port);
  // While a master with slots is down: asks a master that is up for CLUSTER SLOTS, and takes
  // the answer (take_cluster_map) once every slot has a master again (a failover is over).
  void check_topology();
  void take_cluster_map(const ClusterMap& map);
  void run_when_ready(Shard& shard, bool ok);
  // Redis unsubscribed the node from a channel whose slot moved to another master (a
  // `sunsubscribe` push nobody asked for): subscribe again where the slot is now.
  void on_slot_moved(const std::string& name);
  // An (S)SUBSCRIBE answered MOVED: sent again to the slot's master (true), or not a redirect.
  bool redirect_subscribe(const std::string& name, std::string_view error);

  // Keys and channel names of one channel.
  std::string key(std::string_view channel, char kind) const;
  std::string fanout_channel(std::string_view channel) const { return key(channel, 'f'); }
  // The herald channel of a fan-out channel name, or "" when it is not one of ours.
  std::string_view channel_of(std::string_view fanout) const;
  // The shard of a channel (or of a user's key): consistent hashing over the shards' addresses.
  Shard& shard_for(std::string_view name);
  Shard& home() { return *shards_[home_]; }  // the nodes' registry and messages
  bool cluster() const { return !slots_.empty(); }
  Shard& shard_of(const RedisConnection& c);
  // The error of a call refused at once because its shard is not connected (and counts it).
  std::string unavailable(const Shard& s);

  // Runs a script: EVALSHA, and EVAL when Redis does not know it (NOSCRIPT).
  void eval(RedisConnection& conn, const redis_scripts::Script& script,
            std::vector<std::string> keys_and_args, size_t num_keys,
            RedisConnection::Callback done);
  void eval_on(RedisConnection& conn, const redis_scripts::Script& script,
               std::shared_ptr<std::vector<std::string>> args, size_t num_keys, bool asking,
               bool redirected, RedisConnection::Callback done);
  // Posts done(value) to loop loop_index (nothing when done is empty).
  template <typename T>
  void reply(int loop_index, std::function<void(T)> done, T value) {
    if (!done) {
      return;
    }
    loops_[static_cast<size_t>(loop_index)]->post(
        [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
  }

  void do_subscribe(int loop, std::string name, SubscribeCallback done);
  void do_unsubscribe(int loop, const std::string& name);
  void send_subscribe(const std::string& name, bool subscribe);
  void on_confirmed(const std::string& name);
  // One confirmation (or refusal) of the channel's (UN)SUBSCRIBE came: true when it was the last.
  bool count_confirmation(Shard& shard, const std::string& name);
  void refuse(const std::string& name, const std::string& why);
  void read_position(const std::string& name);
  void on_position(const std::string& name, uint64_t generation, Result<HistoryResult> r);
  void catch_up(const std::string& name, NodeChannel& c, HistoryResult r);
  void go_live(const std::string& name, NodeChannel& c,
               std::vector<PublicationRecord> from_history, const std::string& history_epoch);
  void on_message(std::string_view name, std::string_view payload);
  void accept(const std::string& name, NodeChannel& c, std::shared_ptr<const PublicationRecord> rec,
              const std::string& epoch);
  void lose(const std::string& name, NodeChannel& c);
  void flush_outbox(const std::string& name, NodeChannel& c);
  void flush_outboxes();
  void release_held(NodeChannel& c, bool all);
  void deliver_read(const std::string& name, int loop, HistoryCallback done,
                    Result<HistoryResult> r);
  void announce(std::string_view name, const ClientInfo& who, bool join);
  void refresh_presence();
  bool announces(std::string_view channel) const;  // the namespace has join/leave pushes
  void forget_member(const std::string& name, const std::string& client);
  void update_ready();
  // The nodes of the cluster (redis_broker_nodes.cpp).
  std::string node_channel(std::string_view node) const;  // messages to one node
  std::string all_nodes_channel() const;                   // messages to every node
  void start_nodes();
  void stop_nodes();
  void subscribe_node_channels();
  bool is_node_channel(std::string_view channel) const;
  bool on_node_push(std::string_view channel, std::string_view payload);
  void announce_node();
  void refresh_users();
  void forget_user_client(const std::string& user, const std::string& client);
  std::string user_key(std::string_view user) const;
  // Holds over every node (redis_broker_holds.cpp), on the home shard.
  std::string holds_key() const;
  std::string holders_key(std::string_view key) const;
  void change_hold(int loop_index, const std::string& name, bool acquire, HoldCallback done);
  void refresh_holds();
  void sweep_holds();
  std::string new_epoch();  // random, 16 hex digits
  static int64_t meta_ttl(const HistoryOptions& h);

  // RedisConnection::Listener
  void on_ready(RedisConnection& c) override;
  void on_down(RedisConnection& c, const std::string& why) override;
  void on_push(RedisConnection& c, resp::Reply& reply) override;

  std::vector<net::EventLoop*> loops_;
  RedisBrokerOptions options_;
  RedisMetrics metrics_;  // written on the Redis loop only
  HistoryPolicy policy_;
  std::vector<BrokerSink*> sinks_;
  std::unique_ptr<net::EventLoop> io_loop_;
  std::thread thread_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::pair<uint64_t, uint32_t>> ring_;  // (point, shard index), sorted
  std::vector<uint32_t> slots_;  // Redis Cluster: slot -> shard (MOVED updates it)
  uint32_t home_ = 0;            // the shard of the nodes' registry
  std::atomic<bool> ready_{false};
  // Thread: the Redis loop.
  std::unordered_map<std::string, NodeChannel, StringHash, std::equal_to<>> channels_;
  std::vector<std::string> to_flush_;
  bool flush_scheduled_ = false;
  // Connections of users counted through this node, renewed with the presence: user -> clients.
  std::unordered_map<std::string, std::unordered_set<std::string>> user_clients_;
  // Presence members added through this node, renewed every lease/3: channel -> client -> info.
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> members_;
  // Keys this node holds (Broker::hold), renewed with the presence; where ended holds are told.
  std::unordered_set<std::string> held_;
  HoldSink* hold_sink_ = nullptr;
  class RefreshTimer;
  std::unique_ptr<RefreshTimer> refresh_timer_;
  // Runs a function every `every_ms` on the Redis loop. Thread: the Redis loop.
  class Ticker final : public net::Timer {
   public:
    Ticker(net::EventLoop& loop, uint32_t every_ms, std::function<void()> action)
        : loop_(loop), every_ms_(every_ms), action_(std::move(action)) {}
    void arm() { loop_.timers().arm(*this, loop_.now_ms(), every_ms_); }

   private:
    void on_timer() override {
      action_();
      arm();
    }
    net::EventLoop& loop_;
    uint32_t every_ms_;
    std::function<void()> action_;
  };
  std::unique_ptr<Ticker> node_timer_;
  std::unique_ptr<Ticker> topology_timer_;  // Redis Cluster only
  bool topology_asked_ = false;             // a CLUSTER SLOTS is under way
  std::string node_id_;  // random, 16 hex digits
  NodeSink* node_sink_ = nullptr;
  bool greeted_ = false;  // the other nodes were told this one is up (Redis loop)
  mutable std::mutex nodes_mutex_;
  std::vector<std::string> nodes_;  // live ids as last announced (guarded by nodes_mutex_)
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace herald::broker
