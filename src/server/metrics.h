#pragma once
// Metrics: counters and gauges of one event loop, summed over loops when /metrics is scraped.
// Each loop writes only its own LoopMetrics (single writer, relaxed atomics: a plain store on
// x86), and the scraper reads them from any thread. Thread: the owning loop writes; any reads.

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "protocol/errors.h"
#include "server/permissions.h"
#include "transport/metrics.h"

namespace herald::server {

using transport::Counter;

// Where a token was presented (the `token` label of herald_token_refusals_total).
enum class TokenUse : uint8_t { kConnect, kRefresh, kChannel };
inline constexpr size_t kTokenUses = 3;
std::string_view to_string(TokenUse use);

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

// Renders the Prometheus text exposition format for the summed loops.
std::string render_prometheus(const std::vector<const transport::TransportMetrics*>& transports,
                              const std::vector<const LoopMetrics*>& loops);

}  // namespace herald::server
