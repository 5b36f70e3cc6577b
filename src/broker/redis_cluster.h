#pragma once
// Redis Cluster support for the Redis broker: the slot of a key (CRC16 of its hash tag, as Redis
// computes it), and the discovery of the masters and which slots each serves (CLUSTER SLOTS,
// asked once at start of one of the seed addresses). The broker then keeps one pair of
// connections per master and sends each channel's scripts and SSUBSCRIBE to the master of the
// channel's slot (all of a channel's keys share the hash tag `{channel}`); MOVED and ASK replies
// are followed at run time (redis_broker.cpp).
// Thread: any (discover_cluster blocks: call it before the loops run).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "broker/redis_url.h"
#include "broker/resp.h"
#include "net/tls_context.h"

namespace herald::broker {

inline constexpr uint32_t kClusterSlots = 16384;

// The slot of key: CRC16 (XMODEM) of the part between the first '{' and the next '}' when that
// part is not empty, else of the whole key, modulo 16384.
uint16_t cluster_slot(std::string_view key);

struct ClusterMap {
  std::vector<RedisUrl> masters;  // with the seed's user, password and no database
  std::vector<uint32_t> slots;    // kClusterSlots entries: index into masters
};

// A CLUSTER SLOTS reply, read as the map of masters (which inherit the seed's user, password
// and scheme; a master that says "" is the seed's host); an error when it is not one, or when a
// slot has no master (a failover not over yet, a cluster not created).
Result<ClusterMap> parse_cluster_slots(const resp::Reply& slots, const RedisUrl& seed);

// Asks the first seed that answers for CLUSTER SLOTS (timeout per seed), over TLS (tls) for a
// rediss:// seed; an error names every seed tried, or a slot no master serves. The masters
// inherit the seed's scheme (a Redis with `tls-cluster yes` announces its TLS ports).
Result<ClusterMap> discover_cluster(const std::vector<RedisUrl>& seeds, uint32_t timeout_ms,
                                    const net::TlsContext* tls = nullptr);

}  // namespace herald::broker
