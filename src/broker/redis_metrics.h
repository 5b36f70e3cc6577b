#pragma once
// RedisMetrics: what the Redis broker's connections did, for /metrics (the herald_redis_*
// families, docs/OPERATIONS.md). One per RedisBroker, written only by its Redis loop (every
// RedisConnection of the broker and the broker's own code run there: single writer, relaxed
// counters, no lock), read by the /metrics scrape from any thread. Cheap on the hot path: a
// command costs two counter adds and one steady-clock read when sent, the same when answered.
// Thread: the Redis loop writes; any thread reads.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counter.h"
#include "base/histogram.h"

namespace herald::broker {

// Which of a shard's two connections (the `role` label).
enum class RedisRole : uint8_t {
  kCommand,     // pipelined scripts and commands, replies matched in order
  kSubscriber,  // (S)SUBSCRIBE: pushes
};
inline constexpr size_t kRedisRoles = 2;
std::string_view to_string(RedisRole role);

// Why a command got no useful answer (the `reason` label of herald_redis_command_failures_total).
enum class RedisFailure : uint8_t {
  kNotConnected,    // refused at once: the connection was not ready (Redis down, TLS refused)
  kTimeout,         // no reply within the command timeout (the outcome is unknown)
  kConnectionLost,  // the connection failed with the command unanswered
  kErrorReply,      // Redis answered an error (a script error, an ACL refusal, OOM...)
  kRedirected,      // Redis Cluster answered MOVED or ASK (followed once when the master is known)
  kNoScript,        // NOSCRIPT: the script cache was empty (Redis restarted); sent again as EVAL
};
inline constexpr size_t kRedisFailures = 6;
std::string_view to_string(RedisFailure failure);

struct RedisMetrics {
  Counter connections[kRedisRoles];       // gauge: connections made by start() and not stopped
  Counter connections_up[kRedisRoles];    // gauge: of those, ready now (handshake done)
  Counter reconnects[kRedisRoles];        // handshakes of a connection that had been ready before
  Counter connect_failures[kRedisRoles];  // attempts that failed before being ready (refused,
                                          // timed out, TLS refused, AUTH refused)
  Counter commands[kRedisRoles];          // commands written (subscriber: (UN)SUBSCRIBE, not PINGs)
  Counter in_flight;  // gauge: commands of the command connections not answered yet
  Counter failures[kRedisFailures];
  Histogram round_trip;     // a command from queued to its reply (command connections)
  Counter pubsub_messages;  // publications and node messages received by subscribers

  Counter& failure(RedisFailure f) { return failures[static_cast<size_t>(f)]; }
  // A sink for connections made without a broker (tests): never rendered.
  static RedisMetrics& discarded();
};

}  // namespace herald::broker
