#pragma once
// The Lua scripts of the Redis broker. Each runs atomically inside Redis, which is what gives a
// channel one order across all nodes: the publish script assigns the offset, appends to history,
// updates the meta, checks and records the idempotency key and PUBLISHes to the node fan-out
// channel in one step, so no node can see an offset out of order or one missing from history.
// The texts and their keys are documented in scripts.cpp and docs/SCALING.md.
// Thread: any (constants).

#include <string>
#include <string_view>

namespace herald::broker::redis_scripts {

struct Script {
  std::string_view name;
  std::string_view text;
  std::string sha1;  // hex, for EVALSHA
};

// KEYS: stream, meta, idempotency hash, idempotency order (zset).
// ARGV: fan-out channel, data, packed publisher, idempotency key ("" none), history size, history
//       ttl ms (0 none), meta ttl ms (0 none), epoch for a new channel, key window ms, keys max.
// Returns {epoch, offset, first offset, duplicate (0/1)}.
const Script& publish();
// KEYS: stream, meta (and, to give an unknown channel an epoch, the idempotency hash and zset).
// ARGV: reverse (0/1), after, before, limit (-1: none), history ttl ms, epoch to give an unknown
// channel ("": leave it unknown), meta ttl ms.
// Returns {epoch ("" for an unknown channel), top offset, first offset, entries}: entries as
// XRANGE gives them ({id, {field, value, ...}}), in the query's order.
const Script& read();
// KEYS: presence hash, presence lease zset. ARGV: client, packed info, limit (0: none),
// lease ms, fan-out channel, announce (0/1). Returns 1 (added or present) or 0 (full).
const Script& presence_add();
// KEYS: as presence_add. ARGV: client, fan-out channel, announce (0/1). Returns 1 if removed.
const Script& presence_remove();
// Scripts that read or renew presence first drop the members whose lease ended, and publish
// their leaves to the fan-out channel when announce is 1.
// KEYS: as presence_add. ARGV: mode ("list" or "stats"), fan-out channel, announce (0/1).
// list: the packed infos of the members whose lease holds; stats: {clients, distinct users}.
const Script& presence_read();
// KEYS: as presence_add. ARGV: lease ms, fan-out channel, announce (0/1), then client, packed
// info pairs: renews this node's members' leases (and puts back any that Redis lost). Without
// pairs it only sweeps the ended leases.
const Script& presence_refresh();
// KEYS: the zset of nodes. ARGV: node id, lease ms. Renews the node's lease, drops the nodes
// whose lease ended, returns the live node ids.
const Script& node_announce();
// KEYS: a user's zset of connections. ARGV: client, limit, lease ms. Drops the connections
// whose lease ended; returns 1 when the client is (now) counted, 0 when the user has `limit`.
const Script& user_admit();
// KEYS: as user_admit. ARGV: lease ms, then clients: renews their leases.
const Script& user_refresh();

// Holds over every node (Broker::hold). KEYS: the key's zset of holders (node -> lease end),
// the index zset (key -> latest lease end). hold_acquire ARGV: node id, lease ms, key: drops the
// ended holders, adds the node; returns 0 (another node holds it), 1 (the first holder) or 2
// (the first, after holders that ended unreported). hold_release ARGV: node id, key: returns 1
// when no holder is left (the key is gone), 0 otherwise or when a sweep ended it already.
const Script& hold_acquire();
const Script& hold_release();
// KEYS: the index. ARGV: how many at most. The keys whose every holder's lease ended.
const Script& holds_expired();
// KEYS: as hold_acquire. ARGV: key. Returns 1 when the key ended here (the caller reports it),
// 0 when a holder is alive again or another node ended it.
const Script& hold_end();
// KEYS: the index, then the zsets of holders. ARGV: node id, lease ms, then the keys, in the
// order of their zsets: renews the node's leases (and puts back any that Redis lost).
const Script& hold_refresh();

// The same script for a Redis Cluster: its PUBLISHes to a channel's fan-out are SPUBLISH
// (sharded pub/sub: only the master of the channel's slot carries them, and the channel shares
// the slot of the keys through the hash tag). Thread: any.
const Script& for_cluster(const Script& script);

}  // namespace herald::broker::redis_scripts
