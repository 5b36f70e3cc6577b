#pragma once
// Broker: where a publication goes and where history lives, seen from the hub. The hub on every
// event loop talks only to this interface; the in-process broker (MemoryBroker, the embedded
// default) and the Redis broker (RedisBroker, several nodes) implement it, so the hub never knows
// which one runs.
//
// Contract (what the hub's recovery relies on):
//  1. Every channel has one order: publish() assigns offset top+1 within the channel's epoch and
//     records it in history before it is delivered to anyone.
//  2. After subscribe(channel) has completed (its callback ran with Ok), every later publication
//     of the channel is delivered to this loop's Sink, in offset order, exactly once (in batches
//     of consecutive publications), until the broker reports the stream lost (on_lost: a broker
//     over a network may lose it; the memory broker never does).
//  3. read_history() returns the channel's position (epoch, top offset, first offset still in
//     history) and the publications the HistoryQuery selects, consistently with one instant; a
//     publication is either in that result (when the query selects it) or delivered to the Sink
//     afterwards (or both: the hub drops duplicates by offset).
// Callbacks run on the loop that made the call. Thread: per the implementation, each method is
// called from an event loop thread and calls back on that loop.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "herald/result.h"

namespace herald::broker {

// Who is in a channel: one entry per connection.
struct ClientInfo {
  std::string client;  // connection id
  std::string user;    // user id ("" for anonymous)
  std::string info;    // raw JSON given at connect, or empty
};

struct PublicationRecord {
  uint64_t offset = 0;
  int64_t time_ms = 0;
  std::string data;  // raw JSON text, never re-serialized
  ClientInfo publisher;  // the publishing client; client empty for a backend (server API) publish
  // Steady clock (ns) when the publish was taken (by this process, or by the publishing node as
  // the Redis fan-out message says), for the publish-to-delivery histogram; 0 when unknown (read
  // back from history).
  int64_t published_ns = 0;
};

// A channel's position: what a client compares its own {offset, epoch} with.
struct StreamTop {
  std::string epoch;
  uint64_t offset = 0;        // last offset assigned (0 = nothing published yet)
  uint64_t first_offset = 1;  // oldest offset still in history (top + 1 when history is empty)
};

// Which publications a history read returns. A forward read walks up from `after`, a reverse
// read walks down from `before`; either stops after `limit` publications. The position
// (HistoryResult::top) comes with every answer, whatever the query selects.
struct HistoryQuery {
  static constexpr uint64_t kNewest = std::numeric_limits<uint64_t>::max();
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  bool reverse = false;       // false: oldest first, from `after`; true: newest first, `before`
  uint64_t after = 0;         // forward: only offsets above this (0: from the oldest kept)
  uint64_t before = kNewest;  // reverse: only offsets below this (kNewest: from the newest kept)
  size_t limit = kNoLimit;    // at most this many publications; 0: none, only the position
};

struct HistoryResult {
  StreamTop top;
  std::vector<PublicationRecord> publications;  // in the query's order
};

struct PublishResult {
  StreamTop top;           // top.offset is the offset given to this publication
  bool duplicate = false;  // the idempotency key was seen: this is the first publish's result
};

// Publications of one channel, consecutive and in offset order, delivered together (what one
// owner turn produced): a loop encodes them once, as one frame for all its subscribers.
using PublicationBatch = std::vector<std::shared_ptr<const PublicationRecord>>;

struct PresenceStats {
  size_t clients = 0;
  size_t users = 0;  // distinct user ids
};

// Receives the publications of the channels this loop subscribed to. Thread: the loop's own.
class BrokerSink {
 public:
  virtual ~BrokerSink() = default;
  // batch: one or more publications of channel, in offset order, never empty.
  virtual void on_publications(std::string_view channel, const std::string& epoch,
                               const std::shared_ptr<const PublicationBatch>& batch) = 0;
  // A client joined / left the channel's presence (only for channels this loop subscribed to).
  virtual void on_join(std::string_view /*channel*/, const ClientInfo& /*who*/) {}
  virtual void on_leave(std::string_view /*channel*/, const ClientInfo& /*who*/) {}
  // The channel's live stream broke (the broker lost its connection, or the channel's history
  // was lost and a new epoch began): publications may have been missed. The loop stays
  // subscribed and later publications keep coming, but every member must recover from its own
  // position (resubscribe) to know what it missed.
  virtual void on_lost(std::string_view /*channel*/) {}
};

// Receives what other nodes of the cluster send this one (see Broker::send_to_node).
// Thread: the broker's own (the Redis loop): it must post onward and never block.
class NodeSink {
 public:
  virtual ~NodeSink() = default;
  virtual void on_node_message(std::string_view from, std::string_view payload) = 0;
};

// Receives the holds (Broker::hold) that ended without a release: their last holder was a node
// that stopped renewing them (it died, or lost Redis for longer than the lease). Exactly one
// node of the cluster is told of each, in batches (what one sweep ended).
// Thread: the broker's own (the Redis loop): it must not block.
class HoldSink {
 public:
  virtual ~HoldSink() = default;
  virtual void on_holds_abandoned(std::vector<std::string> keys) = 0;
};

// What a hold() or release() found.
struct HoldChange {
  // hold: no other live node held the key (this node is its first holder). release: no node
  // holds it any more (this node was its last).
  bool decisive = false;
  // hold only: the key had holders whose leases had all ended, which nobody reported yet (this
  // node reports their end before its own start; HoldSink is not told of them).
  bool ended_before = false;
};

struct HistoryOptions {
  uint64_t max_publications = 1000;  // per channel; older ones are dropped (0: no history)
  int64_t ttl_ms = 0;                // 0: kept until pushed out by max_publications
  bool durable = true;               // in the broker's durable store, if it has one
  // Join/leave pushes are on in the channel's namespace: a broker that expires members by
  // itself (Redis: the members of a node that died) announces their leaves too.
  bool announce_presence = false;
};

// A channel's history options (from its namespace). Called by the broker when it first meets a
// channel; must give the same answer for a channel for the life of the broker. Thread: any.
using HistoryPolicy = std::function<HistoryOptions(std::string_view channel)>;

struct PublishRequest {
  std::string data;             // raw JSON
  ClientInfo publisher;         // the publishing client, or empty for the server API
  std::string idempotency_key;  // non-empty: a second publish with it in the window is a no-op
  int64_t published_ns = 0;     // steady clock (ns) when taken (set by the hub if 0)
};

// How long an idempotency key is remembered, and how many per channel at most.
inline constexpr int64_t kIdempotencyWindowMs = 5 * 60 * 1000;
inline constexpr size_t kIdempotencyKeysPerChannel = 10'000;

class Broker {
 public:
  using PublishCallback = std::function<void(Result<PublishResult>)>;
  using HistoryCallback = std::function<void(Result<HistoryResult>)>;
  using SubscribeCallback = std::function<void(Result<Ok>)>;

  virtual ~Broker() = default;

  // False while the broker cannot take publications (Redis unreachable): /ready says so.
  // Thread: any.
  virtual bool ready() const { return true; }

  // Attaches loop `loop_index`'s sink; called once per loop before it runs.
  virtual void attach(int loop_index, BrokerSink* sink) = 0;

  virtual void publish(int loop_index, std::string_view channel, PublishRequest request,
                       PublishCallback done) = 0;
  // This loop wants (no longer wants) the channel's publications. A subscribe that fails (done
  // gets an Error: the broker is unavailable) is not in force and needs no unsubscribe.
  virtual void subscribe(int loop_index, std::string_view channel, SubscribeCallback done) = 0;
  virtual void unsubscribe(int loop_index, std::string_view channel) = 0;
  // The channel's position and the publications `query` selects, in the query's order. A read
  // never returns an offset that has not been delivered to subscribers yet (contract 3).
  virtual void read_history(int loop_index, std::string_view channel, const HistoryQuery& query,
                            HistoryCallback done) = 0;

  using PresenceCallback = std::function<void(Result<std::vector<ClientInfo>>)>;
  using PresenceStatsCallback = std::function<void(Result<PresenceStats>)>;
  using AddedCallback = std::function<void(Result<bool> added)>;
  // Presence: added before a connection's subscription is established, removed on unsubscribe
  // and on every kind of disconnect. A change is announced to the subscribed loops (join/leave)
  // only when `announce` is set (per namespace). presence_add refuses (done(false)) when the
  // channel already holds `limit` clients (0: no limit); it is atomic with other adds, so the
  // limit holds under concurrent subscribes; done gets an Error when the broker is unavailable
  // (nothing was added). With the memory broker, done runs before the join is announced.
  virtual void presence_add(int loop_index, std::string_view channel, ClientInfo who,
                            bool announce, size_t limit, AddedCallback done) = 0;
  virtual void presence_remove(int loop_index, std::string_view channel, std::string_view client,
                               bool announce) = 0;
  virtual void presence(int loop_index, std::string_view channel, PresenceCallback done) = 0;
  virtual void presence_stats(int loop_index, std::string_view channel,
                              PresenceStatsCallback done) = 0;

  // Connections per user over every node (max_connections_per_user with several nodes): counts
  // `client` among user's connections unless they already number `limit`; done(false) then.
  // done gets an Error when the broker is unavailable (the caller decides: Herald lets the
  // connection in, its node's own count still applies). A broker of one node admits everyone
  // (the server counts on its own). Thread: a loop's; done on it.
  virtual void user_admit(int loop_index, std::string_view /*user*/, std::string_view /*client*/,
                          size_t /*limit*/, AddedCallback done) {
    (void)loop_index;
    done(true);
  }
  virtual void user_release(std::string_view /*user*/, std::string_view /*client*/) {}

  // Holds spanning every node, for what a cluster must decide once (the Pusher webhooks: a
  // channel occupied, a presence member present). A node calls hold(key) when its own reason to
  // hold key begins and release(key) when it ends, at most one hold in force per key and node,
  // in order from one loop (a key's calls from one loop are answered in the order made). A
  // node's holds are leased and renewed with its presence. done gets an Error when the broker is
  // unavailable (the caller decides: the Pusher webhooks then report the change themselves; the
  // hold still counts, renewed once the broker is back). A broker of one node has no other
  // holder: every hold is the first and every release the last, answered at once.
  // Thread: a loop's; done on it.
  using HoldCallback = std::function<void(Result<HoldChange>)>;
  virtual void hold(int loop_index, std::string_view /*key*/, HoldCallback done) {
    (void)loop_index;
    done(HoldChange{true, false});
  }
  virtual void release(int loop_index, std::string_view /*key*/, HoldCallback done) {
    (void)loop_index;
    done(HoldChange{true, false});
  }
  // Set before the loops run (a broker of one node never calls it).
  virtual void set_hold_sink(HoldSink* /*sink*/) {}

  // The nodes of a cluster and messages between them, for what spans every node: the server
  // API's questions and orders (disconnect a user, count clients and channels) and the commands
  // of an HTTP session that reach another node than the one holding it. A broker of one node
  // (the memory broker) has no other node: no id, an empty node list, nothing to send.
  // This node's id ("" for a broker of one node). Thread: any.
  virtual std::string_view node_id() const { return {}; }
  // The ids of the nodes alive (announced within their lease), this one included, as last read.
  // Thread: any.
  virtual std::vector<std::string> nodes() const { return {}; }
  // Set before the loops run; the broker calls it for every message to this node.
  virtual void set_node_sink(NodeSink* /*sink*/) {}
  // Sends payload to node `to` ("": to every other node). Best effort: dropped while the broker
  // is unavailable (whoever waits for an answer gives up after its own timeout). Thread: any.
  virtual void send_to_node(std::string_view /*to*/, std::string /*payload*/) {}
};

}  // namespace herald::broker
