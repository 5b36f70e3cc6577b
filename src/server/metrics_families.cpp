#include "server/metrics_families.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "server/log.h"
#include "base/prometheus_text.h"
#include "server/stats.h"
#include "server/version.h"
#include "store/history_store.h"
#include "transport/loop_services.h"

namespace herald::server {
namespace {

using transport::EndReason;
using transport::Kind;
using transport::TransportMetrics;

constexpr Kind kKinds[] = {Kind::kWebSocket, Kind::kSse, Kind::kPoll, Kind::kTcp};
constexpr EndReason kEndReasons[] = {
    EndReason::kClientClosed, EndReason::kNetworkError, EndReason::kSlowConsumer,
    EndReason::kTimeout,      EndReason::kProtocolError, EndReason::kServerClosed,
    EndReason::kShutdown};

// net::CloseReason by value, as label values.
constexpr std::string_view kCloseReasons[] = {"local",        "peer_closed", "read_error",
                                              "write_error",  "output_limit", "timeout",
                                              "shutdown",     "tls_error"};

template <class Get>
uint64_t sum_transports(const std::vector<const TransportMetrics*>& ts, Get get) {
  uint64_t sum = 0;
  for (const TransportMetrics* t : ts) {
    sum += get(*t);
  }
  return sum;
}

// The transport's figure of a family keyed by transport (open now, received, sent).
struct ByKind {
  uint64_t websocket, sse, poll, tcp;
  uint64_t of(Kind k) const {
    switch (k) {
      case Kind::kWebSocket:
        return websocket;
      case Kind::kSse:
        return sse;
      case Kind::kPoll:
        return poll;
      case Kind::kTcp:
        return tcp;
    }
    return 0;
  }
};

void by_kind(PrometheusText& t, std::string_view name, const ByKind& v) {
  for (Kind k : kKinds) {
    t.sample(name, {{"transport", transport::to_string(k)}}, v.of(k));
  }
}

void render_connections(PrometheusText& t, const std::vector<const TransportMetrics*>& ts) {
  auto sum = [&ts](Counter TransportMetrics::*m) {
    return sum_transports(ts, [m](const TransportMetrics& x) { return (x.*m).get(); });
  };
  t.family("herald_client_connections", "gauge",
           "Client connections open, by transport (a long-poll session counts as one)");
  by_kind(t, "herald_client_connections",
          {sum(&TransportMetrics::websockets_open), sum(&TransportMetrics::sse_open),
           sum(&TransportMetrics::poll_sessions), sum(&TransportMetrics::tcp_open)});
  t.family("herald_client_connections_opened_total", "counter",
           "Client connections opened, by transport");
  for (Kind k : kKinds) {
    auto i = static_cast<size_t>(k);
    t.sample("herald_client_connections_opened_total", {{"transport", transport::to_string(k)}},
             sum_transports(ts, [i](const TransportMetrics& x) { return x.client_opened[i].get(); }));
  }
  t.family("herald_client_connections_closed_total", "counter",
           "Client connections closed, by transport and reason");
  for (Kind k : kKinds) {
    for (EndReason r : kEndReasons) {
      auto i = static_cast<size_t>(k);
      auto j = static_cast<size_t>(r);
      t.sample("herald_client_connections_closed_total",
               {{"transport", transport::to_string(k)}, {"reason", transport::to_string(r)}},
               sum_transports(ts, [i, j](const TransportMetrics& x) {
                 return x.client_closed[i][j].get();
               }));
    }
  }
  t.family("herald_connections_closed_total", "counter",
           "TCP connections closed (every kind, plain HTTP included), by how the socket ended");
  for (size_t i = 0; i < std::size(kCloseReasons); ++i) {
    t.sample("herald_connections_closed_total", {{"reason", kCloseReasons[i]}},
             sum_transports(ts, [i](const TransportMetrics& x) {
               return x.connections_closed[i].get();
             }));
  }
  uint64_t posts = sum(&TransportMetrics::session_posts);
  uint64_t poll_posts = sum(&TransportMetrics::poll_posts);
  t.family("herald_messages_received_total", "counter",
           "Client messages received, by transport (WebSocket messages, TCP lines, command POSTs "
           "of SSE and long-poll sessions)");
  by_kind(t, "herald_messages_received_total",
          {sum(&TransportMetrics::ws_messages_in), posts - poll_posts, poll_posts,
           sum(&TransportMetrics::tcp_lines_in)});
  t.family("herald_messages_sent_total", "counter",
           "Sends queued to clients, by transport (a WebSocket message, or one write of a batch "
           "of pushes on the other transports)");
  by_kind(t, "herald_messages_sent_total",
          {sum(&TransportMetrics::ws_messages_out), sum(&TransportMetrics::sse_events_out),
           sum(&TransportMetrics::poll_entries_out), sum(&TransportMetrics::tcp_lines_out)});
}

void render_histograms(PrometheusText& t, const std::vector<const LoopMetrics*>& loops) {
  HistogramSnapshot delivery;
  for (const LoopMetrics* m : loops) {
    delivery.add(m->publish_delivery);
  }
  t.family("herald_publish_delivery_seconds", "histogram",
           "From the hub taking a publish to a loop queueing it to a subscriber, per delivery");
  t.histogram("herald_publish_delivery_seconds", {}, delivery);
  t.family("herald_command_duration_seconds", "histogram",
           "Herald protocol commands, from decoding to the reply, by command");
  for (size_t i = 0; i < kMethods; ++i) {
    HistogramSnapshot h;
    for (const LoopMetrics* m : loops) {
      h.add(m->command_duration[i]);
    }
    t.histogram("herald_command_duration_seconds",
                {{"command", protocol::method_name(static_cast<protocol::Method>(i))}}, h);
  }
}

void render_loops(PrometheusText& t, const MetricsSources& s) {
  uint64_t in = 0;
  uint64_t out = 0;
  for (size_t i = 0; i < s.bytes_received.size(); ++i) {
    in += s.bytes_received[i];
    out += s.bytes_sent[i];
  }
  t.family("herald_received_bytes_total", "counter",
           "Bytes received from sockets (TLS records and HTTP heads included)");
  t.sample("herald_received_bytes_total", in);
  t.family("herald_sent_bytes_total", "counter",
           "Bytes written to sockets (TLS records and framing included)");
  t.sample("herald_sent_bytes_total", out);
  t.family("herald_loops", "gauge", "Event loops (threads serving connections)");
  t.sample("herald_loops", static_cast<uint64_t>(s.loops.size()));
  t.family("herald_loop_connections", "gauge", "TCP connections open, by event loop");
  for (size_t i = 0; i < s.transports.size(); ++i) {
    std::string loop = std::to_string(i);
    t.sample("herald_loop_connections", {{"loop", loop}}, s.transports[i]->connections_open.get());
  }
  if (!s.heartbeat_age_ms.empty()) {
    t.family("herald_loop_heartbeat_age_seconds", "gauge",
             "Time since the loop's last heartbeat (stamped every second): above stall_timeout "
             "the loop is stalled and /health answers 503");
    for (size_t i = 0; i < s.heartbeat_age_ms.size(); ++i) {
      t.sample("herald_loop_heartbeat_age_seconds", {{"loop", std::to_string(i)}},
               static_cast<double>(s.heartbeat_age_ms[i]) / 1e3);
    }
  }
  if (s.samples == nullptr) {
    return;  // the loops were not asked (Server::metrics_text())
  }
  t.family("herald_loop_lag_seconds", "gauge",
           "How long a task posted to the loop waited before it ran, sampled at this scrape");
  uint64_t subscriptions = 0;
  std::unordered_set<uint64_t> channels;
  for (size_t i = 0; i < s.samples->size(); ++i) {
    const LoopStats& l = (*s.samples)[i];
    std::string loop = std::to_string(i);
    t.sample("herald_loop_lag_seconds", {{"loop", loop}}, static_cast<double>(l.lag_us) / 1e6);
    subscriptions += l.subscriptions;
    channels.insert(l.channel_hashes.begin(), l.channel_hashes.end());
  }
  t.family("herald_channels", "gauge", "Channels with at least one subscriber on this node");
  t.sample("herald_channels", static_cast<uint64_t>(channels.size()));
  t.family("herald_subscriptions", "gauge", "Subscriptions of clients to channels on this node");
  t.sample("herald_subscriptions", subscriptions);
}

void render_store(PrometheusText& t, const store::HistoryStore& store) {
  store::StoreStats st = store.stats();
  HistogramSnapshot commit;
  commit.add(store.commit_latency());
  t.family("herald_store_commit_seconds", "histogram",
           "History store transactions (one batch of appends), BEGIN to COMMIT");
  t.histogram("herald_store_commit_seconds", {}, commit);
  t.family("herald_store_queue_depth", "gauge", "Appends waiting for the store's writer");
  t.sample("herald_store_queue_depth", st.queued);
  t.family("herald_store_appends_total", "counter", "Publications committed to the store");
  t.sample("herald_store_appends_total", st.appended);
  t.family("herald_store_append_failures_total", "counter",
           "Appends that failed (disk full, I/O error, queue full)");
  t.sample("herald_store_append_failures_total", st.append_failed);
  t.family("herald_store_writing", "gauge", "1 while the store's last batch committed, else 0");
  t.sample("herald_store_writing", st.writing ? uint64_t{1} : uint64_t{0});
}

// The Redis broker's connections. Every family and label is written with the memory broker too
// (zeros), so dashboards and alerts do not depend on the broker in use.
void render_redis(PrometheusText& t, const broker::RedisMetrics* m) {
  static const broker::RedisMetrics kNone;
  const broker::RedisMetrics& r = m != nullptr ? *m : kNone;
  using broker::RedisFailure;
  using broker::RedisRole;
  constexpr RedisRole kRoles[] = {RedisRole::kCommand, RedisRole::kSubscriber};
  t.family("herald_redis_connections", "gauge",
           "Connections to Redis (broker: redis), by role (command, subscriber) and state (up: "
           "ready for commands; down: connecting, refused or failed)");
  for (RedisRole role : kRoles) {
    auto i = static_cast<size_t>(role);
    uint64_t all = r.connections[i].get();
    uint64_t up = std::min(all, r.connections_up[i].get());
    t.sample("herald_redis_connections", {{"role", to_string(role)}, {"state", "up"}}, up);
    t.sample("herald_redis_connections", {{"role", to_string(role)}, {"state", "down"}}, all - up);
  }
  t.family("herald_redis_reconnects_total", "counter",
           "Connections to Redis made again after having been ready, by role");
  for (RedisRole role : kRoles) {
    t.sample("herald_redis_reconnects_total", {{"role", to_string(role)}},
             r.reconnects[static_cast<size_t>(role)].get());
  }
  t.family("herald_redis_connect_failures_total", "counter",
           "Attempts to connect to Redis that failed before being ready (refused, timed out, TLS "
           "or AUTH refused), by role");
  for (RedisRole role : kRoles) {
    t.sample("herald_redis_connect_failures_total", {{"role", to_string(role)}},
             r.connect_failures[static_cast<size_t>(role)].get());
  }
  t.family("herald_redis_commands_total", "counter",
           "Commands sent to Redis, by role (command: scripts and commands; subscriber: "
           "(UN)SUBSCRIBE)");
  for (RedisRole role : kRoles) {
    t.sample("herald_redis_commands_total", {{"role", to_string(role)}},
             r.commands[static_cast<size_t>(role)].get());
  }
  t.family("herald_redis_commands_in_flight", "gauge",
           "Commands sent to Redis whose reply has not come yet");
  t.sample("herald_redis_commands_in_flight", r.in_flight.get());
  t.family("herald_redis_command_failures_total", "counter",
           "Redis commands without a useful answer, by reason");
  for (size_t i = 0; i < broker::kRedisFailures; ++i) {
    t.sample("herald_redis_command_failures_total",
             {{"reason", to_string(static_cast<RedisFailure>(i))}}, r.failures[i].get());
  }
  HistogramSnapshot rtt;
  rtt.add(r.round_trip);
  t.family("herald_redis_command_seconds", "histogram",
           "Redis command round trip, from queued on the Redis loop to its reply");
  t.histogram("herald_redis_command_seconds", {}, rtt);
  t.family("herald_redis_pubsub_messages_total", "counter",
           "Pub/sub messages received from Redis (publications of followed channels and "
           "messages between nodes)");
  t.sample("herald_redis_pubsub_messages_total", r.pubsub_messages.get());
}

}  // namespace

void render_transport_limits(std::string& out,
                             const std::vector<const TransportMetrics*>& transports) {
  PrometheusText t(out);
  auto sum = [&transports](Counter TransportMetrics::*m) {
    return sum_transports(transports, [m](const TransportMetrics& x) { return (x.*m).get(); });
  };
  t.sample("herald_limit_refusals_total", {{"limit", "max_connections"}},
           sum(&TransportMetrics::connections_rejected));
  t.sample("herald_limit_refusals_total", {{"limit", "max_message_size"}},
           sum(&TransportMetrics::message_size_refusals));
  t.sample("herald_limit_refusals_total", {{"limit", "request_head"}},
           sum(&TransportMetrics::head_limit_refusals));
  t.sample("herald_limit_refusals_total", {{"limit", "max_output_bytes"}},
           sum(&TransportMetrics::slow_disconnects));
}

void render_families(std::string& out, const MetricsSources& s) {
  PrometheusText t(out);
  t.family("herald_build_info", "gauge", "Always 1; the version in a label");
  t.sample("herald_build_info", {{"version", kServerVersion}}, uint64_t{1});
  render_connections(t, s.transports);
  render_histograms(t, s.loops);
  render_loops(t, s);
  t.family("herald_api_key_refusals_total", "counter",
           "Server API requests refused for their X-API-Key, by reason");
  for (size_t i = 0; i < kApiKeyRefusals; ++i) {
    uint64_t sum = 0;
    for (const LoopMetrics* m : s.loops) {
      sum += m->api_key_refusals[i].get();
    }
    t.sample("herald_api_key_refusals_total",
             {{"reason", to_string(static_cast<ApiKeyRefusal>(i))}}, sum);
  }
  t.family("herald_log_lines_suppressed_total", "counter",
           "Log lines dropped by the log rate limit, by event");
  for (size_t i = 0; i < kLogEvents; ++i) {
    t.sample("herald_log_lines_suppressed_total",
             {{"event", to_string(static_cast<LogEvent>(i))}}, s.log_suppressed[i]);
  }
  if (s.store != nullptr) {
    render_store(t, *s.store);
  }
  render_redis(t, s.redis);
}

}  // namespace herald::server
