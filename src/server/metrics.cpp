#include "server/metrics.h"

#include <chrono>
#include <cstdio>

#include "server/metrics_families.h"
#include "server/process_metrics.h"

namespace herald::server {
namespace {

template <class Metrics>
struct Field {
  const char* name;
  const char* type;
  const char* help;
  Counter Metrics::*member;
};

using transport::TransportMetrics;

constexpr Field<TransportMetrics> kTransportFields[] = {
    {"herald_connections_accepted_total", "counter", "TCP connections accepted",
     &TransportMetrics::connections_accepted},
    {"herald_connections_rejected_total", "counter", "Connections refused over max_connections",
     &TransportMetrics::connections_rejected},
    {"herald_connections_open", "gauge", "TCP connections open",
     &TransportMetrics::connections_open},
    {"herald_websockets_open", "gauge", "WebSocket connections open",
     &TransportMetrics::websockets_open},
    {"herald_http_requests_total", "counter", "HTTP request heads parsed",
     &TransportMetrics::http_requests},
    {"herald_http_errors_total", "counter", "HTTP requests answered with an error status",
     &TransportMetrics::http_errors},
    {"herald_head_timeouts_total", "counter", "Connections closed waiting for a request head",
     &TransportMetrics::head_timeouts},
    {"herald_ws_messages_received_total", "counter", "WebSocket messages received",
     &TransportMetrics::ws_messages_in},
    {"herald_ws_bytes_received_total", "counter", "WebSocket payload bytes received",
     &TransportMetrics::ws_bytes_in},
    {"herald_ws_messages_sent_total", "counter", "WebSocket messages queued (per delivery)",
     &TransportMetrics::ws_messages_out},
    {"herald_ws_protocol_errors_total", "counter", "WebSocket connections failed by the peer",
     &TransportMetrics::ws_protocol_errors},
    {"herald_ws_slow_disconnects_total", "counter",
     "Connections dropped because their output queue passed its cap (every transport)",
     &TransportMetrics::slow_disconnects},
    {"herald_ws_ping_timeouts_total", "counter", "Connections dropped for not answering pings",
     &TransportMetrics::ws_ping_timeouts},
    {"herald_publications_total", "counter", "Topic publications", &TransportMetrics::publications},
    {"herald_tcp_open", "gauge", "Raw TCP protocol connections open", &TransportMetrics::tcp_open},
    {"herald_tcp_lines_received_total", "counter", "Raw TCP lines received",
     &TransportMetrics::tcp_lines_in},
    {"herald_tcp_lines_sent_total", "counter", "Raw TCP sends queued (a batch counts once)",
     &TransportMetrics::tcp_lines_out},
    {"herald_tcp_line_errors_total", "counter",
     "Raw TCP connections closed for a line over the size limit or not UTF-8",
     &TransportMetrics::tcp_line_errors},
    {"herald_tcp_ping_timeouts_total", "counter", "Raw TCP connections dropped for silence",
     &TransportMetrics::tcp_ping_timeouts},
    {"herald_sse_open", "gauge", "Server-Sent Events streams open", &TransportMetrics::sse_open},
    {"herald_sse_sends_total", "counter", "SSE sends queued (a batch counts once)",
     &TransportMetrics::sse_events_out},
    {"herald_poll_sessions", "gauge", "Long-polling sessions kept",
     &TransportMetrics::poll_sessions},
    {"herald_poll_requests_total", "counter", "Long-polling polls", &TransportMetrics::poll_requests},
    {"herald_poll_expired_total", "counter", "Long-polling sessions collected (nobody polled)",
     &TransportMetrics::poll_expired},
    {"herald_session_posts_total", "counter", "Commands POSTed to SSE and long-polling sessions",
     &TransportMetrics::session_posts},
    {"herald_session_relays_total", "counter",
     "Session requests relayed to the node holding the session (several nodes)",
     &TransportMetrics::session_relays},
    {"herald_tls_handshakes_total", "counter", "TLS handshakes completed",
     &TransportMetrics::tls_handshakes},
    {"herald_tls_handshake_errors_total", "counter",
     "TLS handshakes that failed or did not finish within head_timeout",
     &TransportMetrics::tls_handshake_errors},
    {"herald_tls_errors_total", "counter",
     "TLS connections dropped for a bad record after the handshake", &TransportMetrics::tls_errors},
};

constexpr Field<LoopMetrics> kFields[] = {
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
    {"herald_origin_refusals_total", "counter",
     "Browser transport requests refused for their Origin (403)", &LoopMetrics::origin_refusals},
    {"herald_token_refreshes_total", "counter", "Connection tokens swapped by a refresh command",
     &LoopMetrics::token_refreshes},
    {"herald_channel_tokens_total", "counter", "Channel tokens accepted on subscribe",
     &LoopMetrics::channel_tokens},
};

template <class Metrics, size_t N>
void render_fields(std::string& out, const Field<Metrics> (&fields)[N],
                   const std::vector<const Metrics*>& loops) {
  char line[256];
  for (const Field<Metrics>& f : fields) {
    uint64_t sum = 0;
    for (const Metrics* m : loops) {
      sum += (m->*f.member).get();
    }
    std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", f.name, f.help,
                  f.name, f.type, f.name, static_cast<unsigned long long>(sum));
    out += line;
  }
}

// Sums one labelled counter over the loops.
template <class Get>
uint64_t sum_over(const std::vector<const LoopMetrics*>& loops, Get get) {
  uint64_t sum = 0;
  for (const LoopMetrics* m : loops) {
    sum += get(*m).get();
  }
  return sum;
}

}  // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void observe_delivery(LoopMetrics& m, const broker::PublicationBatch& batch, size_t members) {
  int64_t now = steady_now_ns();
  for (const auto& pub : batch) {
    if (pub->published_ns != 0 && now >= pub->published_ns) {
      m.publish_delivery.observe_ns(static_cast<uint64_t>(now - pub->published_ns), members);
    }
  }
}

std::string_view to_string(ApiKeyRefusal refusal) {
  switch (refusal) {
    case ApiKeyRefusal::kMissing:
      return "missing";
    case ApiKeyRefusal::kWrong:
      return "wrong";
    case ApiKeyRefusal::kNotLoopback:
      return "not_loopback";
  }
  return "unknown";
}

std::string_view to_string(TokenUse use) {
  switch (use) {
    case TokenUse::kConnect:
      return "connect";
    case TokenUse::kRefresh:
      return "refresh";
    case TokenUse::kChannel:
      return "channel";
  }
  return "unknown";
}

Counter& LoopMetrics::protocol_error(protocol::ErrorCode code) {
  for (size_t i = 0; i < std::size(protocol::kAllErrorCodes); ++i) {
    if (protocol::kAllErrorCodes[i] == code) {
      return protocol_errors[i];
    }
  }
  return protocol_errors[0];  // unreachable: every code is in kAllErrorCodes
}

std::string render_prometheus(const std::vector<const TransportMetrics*>& transports,
                              const std::vector<const LoopMetrics*>& loops) {
  MetricsSources sources;
  sources.transports = transports;
  sources.loops = loops;
  return render_prometheus(sources);
}

std::string render_prometheus(const MetricsSources& sources) {
  const std::vector<const TransportMetrics*>& transports = sources.transports;
  const std::vector<const LoopMetrics*>& loops = sources.loops;
  std::string out;
  out.reserve(16384);
  char line[256];
  render_fields(out, kTransportFields, transports);
  render_fields(out, kFields, loops);
  out +=
      "# HELP herald_limit_refusals_total Requests and connections refused by a configured limit\n"
      "# TYPE herald_limit_refusals_total counter\n";
  static constexpr std::pair<const char*, Counter LoopMetrics::*> kLimits[] = {
      {"connections_per_ip", &LoopMetrics::ip_connection_refusals},
      {"connection_rate_per_ip", &LoopMetrics::ip_rate_refusals},
      {"connections_per_user", &LoopMetrics::user_connection_refusals},
      {"command_rate", &LoopMetrics::command_rate_refusals},
      {"publish_rate_per_user", &LoopMetrics::publish_rate_refusals},
      {"api_rate", &LoopMetrics::api_rate_refusals},
      {"max_subscriptions", &LoopMetrics::subscription_limit_refusals},
      {"max_subscribers", &LoopMetrics::subscriber_limit_refusals},
  };
  for (const auto& [name, member] : kLimits) {
    uint64_t sum = 0;
    for (const LoopMetrics* m : loops) {
      sum += (m->*member).get();
    }
    std::snprintf(line, sizeof(line), "herald_limit_refusals_total{limit=\"%s\"} %llu\n", name,
                  static_cast<unsigned long long>(sum));
    out += line;
  }
  render_transport_limits(out, transports);
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
  // Refusals by reason: every label pair is written, zeros included, so a dashboard's query
  // does not depend on what happened so far.
  out +=
      "# HELP herald_token_refusals_total Tokens refused, by where they were presented and why\n"
      "# TYPE herald_token_refusals_total counter\n";
  for (TokenUse use : {TokenUse::kConnect, TokenUse::kRefresh, TokenUse::kChannel}) {
    for (auth::TokenError error : auth::kAllTokenErrors) {
      uint64_t sum = sum_over(
          loops, [&](const LoopMetrics& m) -> const Counter& { return m.token_refusals
              [static_cast<size_t>(use)][auth::index_of(error)]; });
      std::string_view u = to_string(use);
      std::string_view e = auth::to_string(error);
      std::snprintf(line, sizeof(line),
                    "herald_token_refusals_total{token=\"%.*s\",reason=\"%.*s\"} %llu\n",
                    static_cast<int>(u.size()), u.data(), static_cast<int>(e.size()), e.data(),
                    static_cast<unsigned long long>(sum));
      out += line;
    }
  }
  out +=
      "# HELP herald_permission_refusals_total Channel commands refused by a namespace "
      "permission or a user-limited channel, by operation and reason\n"
      "# TYPE herald_permission_refusals_total counter\n";
  for (Operation op : kAllOperations) {
    for (Refusal refusal : kAllRefusals) {
      uint64_t sum = sum_over(loops, [&](const LoopMetrics& m) -> const Counter& {
        return m.permission_refusals[static_cast<size_t>(op)][static_cast<size_t>(refusal)];
      });
      std::string_view o = to_string(op);
      std::string_view r = to_string(refusal);
      std::snprintf(line, sizeof(line),
                    "herald_permission_refusals_total{operation=\"%.*s\",reason=\"%.*s\"} %llu\n",
                    static_cast<int>(o.size()), o.data(), static_cast<int>(r.size()), r.data(),
                    static_cast<unsigned long long>(sum));
      out += line;
    }
  }
  render_families(out, sources);
  render_process_figures(out, read_process_figures());
  return out;
}

}  // namespace herald::server
