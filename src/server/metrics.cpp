#include "server/metrics.h"

#include <malloc.h>

#include <cstdio>

namespace herald::server {
namespace {

struct Field {
  const char* name;
  const char* type;
  const char* help;
  Counter LoopMetrics::*member;
};

constexpr Field kFields[] = {
    {"herald_connections_accepted_total", "counter", "TCP connections accepted",
     &LoopMetrics::connections_accepted},
    {"herald_connections_rejected_total", "counter", "Connections refused over max_connections",
     &LoopMetrics::connections_rejected},
    {"herald_connections_open", "gauge", "TCP connections open", &LoopMetrics::connections_open},
    {"herald_websockets_open", "gauge", "WebSocket connections open",
     &LoopMetrics::websockets_open},
    {"herald_http_requests_total", "counter", "HTTP request heads parsed",
     &LoopMetrics::http_requests},
    {"herald_http_errors_total", "counter", "HTTP requests answered with an error status",
     &LoopMetrics::http_errors},
    {"herald_head_timeouts_total", "counter", "Connections closed waiting for a request head",
     &LoopMetrics::head_timeouts},
    {"herald_ws_messages_received_total", "counter", "WebSocket messages received",
     &LoopMetrics::ws_messages_in},
    {"herald_ws_bytes_received_total", "counter", "WebSocket payload bytes received",
     &LoopMetrics::ws_bytes_in},
    {"herald_ws_messages_sent_total", "counter", "WebSocket messages queued (per delivery)",
     &LoopMetrics::ws_messages_out},
    {"herald_ws_protocol_errors_total", "counter", "WebSocket connections failed by the peer",
     &LoopMetrics::ws_protocol_errors},
    {"herald_ws_slow_disconnects_total", "counter",
     "Connections dropped because their output queue passed its cap",
     &LoopMetrics::ws_slow_disconnects},
    {"herald_ws_ping_timeouts_total", "counter", "Connections dropped for not answering pings",
     &LoopMetrics::ws_ping_timeouts},
    {"herald_publications_total", "counter", "Topic publications", &LoopMetrics::publications},
    {"herald_tls_handshakes_total", "counter", "TLS handshakes completed",
     &LoopMetrics::tls_handshakes},
    {"herald_tls_handshake_errors_total", "counter",
     "TLS handshakes that failed or did not finish within head_timeout",
     &LoopMetrics::tls_handshake_errors},
    {"herald_tls_errors_total", "counter",
     "TLS connections dropped for a bad record after the handshake", &LoopMetrics::tls_errors},
    {"herald_protocol_clients", "gauge", "Connected Herald protocol clients",
     &LoopMetrics::protocol_clients},
    {"herald_protocol_commands_total", "counter", "Herald protocol commands received",
     &LoopMetrics::protocol_commands},
    {"herald_channel_publications_total", "counter",
     "Publications accepted into channels (clients and server API)",
     &LoopMetrics::channel_publications},
    {"herald_api_requests_total", "counter", "Server API requests", &LoopMetrics::api_requests},
    {"herald_api_errors_total", "counter", "Server API error answers", &LoopMetrics::api_errors},
    {"herald_token_rejections_total", "counter", "Connects refused for their token",
     &LoopMetrics::token_rejections},
    {"herald_forced_disconnects_total", "counter", "Connections ended through the server API",
     &LoopMetrics::forced_disconnects},
};

}  // namespace

Counter& LoopMetrics::protocol_error(protocol::ErrorCode code) {
  for (size_t i = 0; i < std::size(protocol::kAllErrorCodes); ++i) {
    if (protocol::kAllErrorCodes[i] == code) {
      return protocol_errors[i];
    }
  }
  return protocol_errors[0];  // unreachable: every code is in kAllErrorCodes
}

std::string render_prometheus(const std::vector<const LoopMetrics*>& loops) {
  std::string out;
  out.reserve(4096);
  char line[256];
  for (const Field& f : kFields) {
    uint64_t sum = 0;
    for (const LoopMetrics* m : loops) {
      sum += (m->*f.member).get();
    }
    std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", f.name, f.help,
                  f.name, f.type, f.name, static_cast<unsigned long long>(sum));
    out += line;
  }
  out +=
      "# HELP herald_protocol_errors_total Error replies to Herald protocol clients, by code\n"
      "# TYPE herald_protocol_errors_total counter\n";
  for (size_t i = 0; i < std::size(protocol::kAllErrorCodes); ++i) {
    uint64_t sum = 0;
    for (const LoopMetrics* m : loops) {
      sum += m->protocol_errors[i].get();
    }
    protocol::ErrorCode code = protocol::kAllErrorCodes[i];
    std::string_view name = protocol::error_name(code);
    std::snprintf(line, sizeof(line),
                  "herald_protocol_errors_total{code=\"%u\",name=\"%.*s\"} %llu\n",
                  static_cast<unsigned>(code), static_cast<int>(name.size()), name.data(),
                  static_cast<unsigned long long>(sum));
    out += line;
  }
  // Process-wide figures that no loop owns. mallinfo2() walks the malloc arenas: fine for a
  // scrape every few seconds, and the one number that says what connections really cost.
  struct mallinfo2 heap = mallinfo2();
  std::snprintf(line, sizeof(line),
                "# HELP herald_heap_bytes Heap bytes in use (malloc arenas + mmapped blocks)\n"
                "# TYPE herald_heap_bytes gauge\nherald_heap_bytes %zu\n",
                heap.uordblks + heap.hblkhd);
  out += line;
  return out;
}

}  // namespace herald::server
