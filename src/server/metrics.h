#pragma once
// Metrics: counters and gauges of one event loop, summed over loops when /metrics is scraped.
// Each loop writes only its own LoopMetrics (single writer, relaxed atomics: a plain store on
// x86), and the scraper reads them from any thread. Thread: the owning loop writes; any reads.

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/errors.h"
#include "transport/metrics.h"

namespace herald::server {

using transport::Counter;

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
  // Error replies to clients, by code (index: position in protocol::kAllErrorCodes).
  Counter protocol_errors[std::size(protocol::kAllErrorCodes)];

  Counter& protocol_error(protocol::ErrorCode code);
};

// Renders the Prometheus text exposition format for the summed loops.
std::string render_prometheus(const std::vector<const transport::TransportMetrics*>& transports,
                              const std::vector<const LoopMetrics*>& loops);

}  // namespace herald::server
