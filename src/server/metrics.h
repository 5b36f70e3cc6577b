#pragma once
// Metrics: counters and gauges of one event loop, summed over loops when /metrics is scraped.
// Each loop writes only its own LoopMetrics (single writer, relaxed atomics: a plain store on
// x86), and the scraper reads them from any thread. Thread: the owning loop writes; any reads.

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "base/histogram.h"
#include "broker/broker.h"
#include "broker/redis_metrics.h"
#include "protocol/command.h"
#include "protocol/errors.h"
#include "server/log.h"
#include "server/permissions.h"
#include "transport/metrics.h"

namespace herald::store {
class HistoryStore;
}

namespace herald::server {

using transport::Counter;

// Where a token was presented (the `token` label of herald_token_refusals_total).
enum class TokenUse : uint8_t { kConnect, kRefresh, kChannel };
inline constexpr size_t kTokenUses = 3;
std::string_view to_string(TokenUse use);

// Why the server API refused a request's key (herald_api_key_refusals_total{reason}).
enum class ApiKeyRefusal : uint8_t { kMissing, kWrong, kNotLoopback };
inline constexpr size_t kApiKeyRefusals = 3;
std::string_view to_string(ApiKeyRefusal refusal);

// Protocol commands, for the `command` label (index: protocol::Method).
inline constexpr size_t kMethods = static_cast<size_t>(protocol::Method::kRefresh) + 1;

// The counters of the protocol and the server API (the transports' are TransportMetrics).
struct LoopMetrics {
  Counter protocol_clients;      // gauge: connected protocol sessions
  Counter protocol_commands;     // client commands decoded (good or not)
  Counter channel_publications;  // publications accepted (clients and server API)
  Counter api_requests;          // server API requests (a batch counts once)
  Counter api_errors;            // server API error answers (and error entries of a batch)
  Counter token_rejections;      // connects refused for their token (or for lacking one)
  Counter forced_disconnects;    // connections ended by POST /api/disconnect
  Counter origin_refusals;       // browser transport requests refused for their Origin (403)
  // Refusals by limit (rendered as herald_limit_refusals_total{limit="..."}).
  Counter ip_connection_refusals;    // over max_connections_per_ip
  Counter ip_rate_refusals;          // over connection_rate_per_ip
  Counter user_connection_refusals;  // over max_connections_per_user
  Counter command_rate_refusals;     // over command_rate
  Counter publish_rate_refusals;     // over publish_rate_per_user
  Counter api_rate_refusals;         // over api_rate
  Counter subscription_limit_refusals;  // over max_subscriptions (per connection)
  Counter subscriber_limit_refusals;    // a channel at its namespace's max_subscribers
  Counter api_key_refusals[kApiKeyRefusals];  // server API requests refused for their key
  // Publish-to-delivery latency: from the hub taking a publish to this loop queueing it to its
  // subscribers, once per delivery (a batch to N members counts N times, one clock read).
  Histogram publish_delivery;
  // Protocol command duration, decode to reply (an asynchronous command until its answer).
  Histogram command_duration[kMethods];
  Counter token_refreshes;       // refresh commands that swapped the connection's token
  Counter channel_tokens;        // channel tokens accepted on subscribe
  // Tokens refused, by where they were presented and why (index: auth::index_of).
  Counter token_refusals[kTokenUses][std::size(auth::kAllTokenErrors)];
  // Channel commands refused by a namespace permission or a user-limited channel.
  Counter permission_refusals[std::size(kAllOperations)][std::size(kAllRefusals)];
  // Error replies to clients, by code (index: position in protocol::kAllErrorCodes).
  Counter protocol_errors[std::size(protocol::kAllErrorCodes)];

  Counter& protocol_error(protocol::ErrorCode code);
  Counter& token_refusal(TokenUse use, auth::TokenError error) {
    return token_refusals[static_cast<size_t>(use)][auth::index_of(error)];
  }
  Counter& permission_refusal(Operation op, Refusal refusal) {
    return permission_refusals[static_cast<size_t>(op)][static_cast<size_t>(refusal)];
  }
};

// Records the publish-to-delivery latency of a batch handed to `members` subscribers (one
// clock read; publications without a stamp, e.g. from Redis, are skipped). Thread: m's loop.
void observe_delivery(LoopMetrics& m, const broker::PublicationBatch& batch, size_t members);
// The steady clock in nanoseconds (what published_ns and the command timer use).
int64_t steady_now_ns();

// What one loop says about itself when asked on its own thread at scrape time (lag, the hub's
// channels and subscriptions): LoopStats of server/stats.h.
struct LoopStats;

// Everything /metrics reads: the loops' counters (read from the scraping thread), the figures
// each loop gave on its own thread (may be empty: Server::metrics_text() does not ask the loops),
// the store (null without one) and the process.
struct MetricsSources {
  std::vector<const transport::TransportMetrics*> transports;
  std::vector<const LoopMetrics*> loops;
  std::vector<uint64_t> bytes_received;  // per loop: what its sockets received
  std::vector<uint64_t> bytes_sent;
  std::vector<uint64_t> heartbeat_age_ms;  // per loop: Heartbeat::age_ms (empty: not rendered)
  const std::vector<LoopStats>* samples = nullptr;
  const store::HistoryStore* store = nullptr;
  uint64_t log_suppressed[kLogEvents] = {};  // log lines dropped by the rate limit, by LogEvent
  // The Redis broker's connections (null with the memory broker: the families are all zeros).
  const broker::RedisMetrics* redis = nullptr;
};

// Renders the Prometheus text exposition format (version 0.0.4) of the summed loops.
std::string render_prometheus(const MetricsSources& sources);
std::string render_prometheus(const std::vector<const transport::TransportMetrics*>& transports,
                              const std::vector<const LoopMetrics*>& loops);

}  // namespace herald::server
