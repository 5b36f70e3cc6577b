#include "server/loop_context.h"

#include "pusher/rest_api.h"
#include "pusher/xhr_routes.h"
#include "server/server_api.h"
#include "server/stats.h"
#include "transport/connection.h"
#include "transport/http_session.h"
#include "transport/http_transports.h"
#include "ws/handshake.h"

namespace herald::server {
namespace {

thread_local LoopContext* t_current_loop = nullptr;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

LoopContext* current_loop() { return t_current_loop; }
void set_current_loop(LoopContext* ctx) { t_current_loop = ctx; }

LoopContext::LoopContext(int index, ServerCore& server_core)
    : transport::LoopServices(index, server_core.options, server_core.http_limits,
                              server_core.deflate),
      core(server_core),
      log_limiter(server_core.options.log_rate, server_core.options.log_rate * 2) {}

LoopContext::~LoopContext() = default;

namespace {

// The CORS headers of an answer to a browser transport request from `origin` (already allowed).
std::string cors_headers(std::string_view origin) {
  if (origin.empty()) {
    return {};
  }
  std::string h = "Access-Control-Allow-Origin: ";
  h += origin;
  h +=
      "\r\nVary: Origin\r\nAccess-Control-Allow-Credentials: true\r\n"
      "Access-Control-Expose-Headers: Herald-Session\r\n";
  return h;
}

}  // namespace

bool LoopContext::origin_allowed(transport::HttpSession& http, const http::Request& req) {
  if (core.origins.allows(req.header("Origin"), req.header("Host"))) {
    return true;
  }
  metrics.origin_refusals.add();
  http.respond(403, kJson, R"({"error":"origin not allowed","status":403})", false);
  return false;
}

void LoopContext::route(transport::HttpSession& http, const http::Request& req,
                        std::string_view body) {
  bool keep = req.keep_alive;
  bool get_like = req.method == http::Method::kGet || req.method == http::Method::kHead;
  for (size_t i = 0; i < core.routes.size(); ++i) {
    if (core.routes[i].path != req.path) {
      continue;
    }
    if (!origin_allowed(http, req)) {
      return;  // before the upgrade: a page of another site never gets a WebSocket here
    }
    if (req.method != http::Method::kGet) {
      http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                   "Allow: GET\r\n");
      return;
    }
    if (!ws::is_websocket_upgrade(req)) {
      http.respond(426, kJson, R"({"error":"this path speaks WebSocket only","status":426})",
                   keep,
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
      return;
    }
    http.upgrade_websocket(req, *handlers[i], core.routes[i].path, core.routes[i].subprotocols);
    return;
  }
  if (core.web && req.path == "/" && req.method == http::Method::kGet &&
      ws::is_websocket_upgrade(req)) {
    // The tutorials' browser code, new WebSocket('ws://host:port'), joins the classic chat room;
    // the same URL without an upgrade is the chat page.
    for (size_t i = 0; i < core.routes.size(); ++i) {
      if (core.routes[i].path == "/chat") {
        http.upgrade_websocket(req, *handlers[i], core.routes[i].path);
        return;
      }
    }
  }
  if (endpoint != nullptr && (req.path == "/connection/sse" || req.path == "/connection/poll")) {
    if (!origin_allowed(http, req)) {
      return;
    }
    std::string cors = cors_headers(req.header("Origin"));
    if (req.path == "/connection/sse") {
      transport::serve_sse(http, req, body, cors);
    } else {
      transport::serve_poll(http, req, body, cors);
    }
    return;
  }
  if (pusher && req.path.starts_with("/app/")) {
    if (!origin_allowed(http, req)) {
      return;
    }
    if (req.method != http::Method::kGet || !ws::is_websocket_upgrade(req)) {
      http.respond(426, kJson, R"({"error":"this path speaks WebSocket only","status":426})", keep,
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
      return;
    }
    pusher->upgrade(http, req, req.path.substr(5));
    return;
  }
  if (pusher && req.path.starts_with("/pusher/app/")) {
    if (!origin_allowed(http, req)) {
      return;
    }
    pusher::serve_xhr(*pusher, http, req, body);  // pusher-js's HTTP fallbacks
    return;
  }
  if (pusher && req.path.starts_with("/apps/")) {
    pusher::serve_rest(*pusher, http, req, body);
    return;
  }
  if (req.path.starts_with("/api/")) {
    handle_api(http, *this, req, body);
    return;
  }
  if (req.path == "/ready") {
    if (!get_like) {
      http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                   "Allow: GET, HEAD\r\n");
      return;
    }
    // Not ready while draining (a load balancer stops sending clients here) or while the
    // history store cannot write (publications would fail).
    // Nor while a loop is stalled (its clients get no answer).
    bool store_ok = core.store == nullptr || core.store->stats().writing;
    bool broker_ok = core.broker == nullptr || core.broker->ready();
    bool loops_ok = core.stalled_loops().empty();
    if (draining || !store_ok || !broker_ok || !loops_ok) {
      http.respond(503, kJson,
                   draining    ? R"({"status":"draining"})"
                   : !store_ok ? R"({"status":"store failing"})"
                   : !loops_ok ? R"({"status":"stalled"})"
                               : R"({"status":"broker unavailable"})",
                   keep);
    } else {
      http.respond(200, kJson, R"({"status":"ready"})", keep);
    }
    return;
  }
  if (req.path == "/health" || req.path == "/metrics") {
    if (!get_like) {
      http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                   "Allow: GET, HEAD\r\n");
      return;
    }
    bool is_health = req.path == "/health";
    if (!is_health && req.method == http::Method::kGet) {
      serve_metrics(http, req);
      return;
    }
    // Alive unless a loop is stalled (docs/OPERATIONS.md: a liveness probe restarts it).
    int status = 200;
    std::string text;
    if (is_health) {
      std::vector<int> stalled = core.stalled_loops();
      text = R"({"status":"ok"})";
      if (!stalled.empty()) {
        status = 503;
        text = R"({"status":"stalled","loops":[)";
        for (size_t i = 0; i < stalled.size(); ++i) {
          text += (i > 0 ? "," : "") + std::to_string(stalled[i]);
        }
        text += "]}";
      }
    } else {
      text = core.metrics_text();
    }
    std::string_view type = is_health ? kJson : kPrometheusText;
    if (req.method == http::Method::kHead) {
      http.respond_head(status, type, text.size(), keep);
    } else {
      http.respond(status, type, text, keep);
    }
    return;
  }
  if (req.path == "/stats.json") {
    serve_stats(http, *this, req);
    return;
  }
  if (core.web && core.web->serve(http, req)) {
    return;
  }
  http.respond(404, kJson, R"({"error":"not found","status":404})", keep);
}

int LoopContext::loop_count() const { return static_cast<int>(core.loops.size()); }

transport::LoopServices& LoopContext::loop_at(int index) {
  return *core.loops[static_cast<size_t>(index)];
}

uint64_t LoopContext::new_client_id() {
  return core.next_connection_id.fetch_add(1, std::memory_order_relaxed);
}

void LoopContext::publish_topic(const std::shared_ptr<transport::Publication>& pub) {
  core.publish(pub);
}

void LoopContext::deliver(const transport::Publication& pub) {
  // A subscriber's deliver never closes or unsubscribes synchronously (an over-full queue closes
  // at the end of the iteration), so the subscriber list is stable during this walk.
  topics.deliver(pub);
}

void LoopContext::on_connection_removed(transport::Connection& c) {
  core.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (pusher) {
    pusher->xhr().connection_closed(c.id());  // a held pusher-js poll's client left
  }
  if (core.limits->checks_ips()) {
    core.limits->release_ip(c.peer_ip());
  }
}

void LoopContext::begin_drain() {
  if (listener) {
    listener->close();
  }
  if (tcp_listener) {
    tcp_listener->close();
  }
  if (pusher) {
    pusher->xhr().drain();  // pusher-js HTTP fallback sessions: told to reconnect (4200)
  }
  drain_connections();
}

void ServerCore::publish(const std::shared_ptr<transport::Publication>& pub) {
  LoopContext* here = current_loop();
  for (const auto& ctx : loops) {
    if (ctx.get() == here) {
      ctx->deliver(*pub);
    } else {
      LoopContext* target = ctx.get();
      target->loop.post([target, pub] { target->deliver(*pub); });
    }
  }
}

std::vector<int> ServerCore::stalled_loops() const {
  std::vector<int> out;
  for (const auto& ctx : loops) {
    if (ctx->heartbeat.age_ms() > options.stall_timeout_ms) {
      out.push_back(ctx->loop.index());
    }
  }
  return out;
}

std::string ServerCore::metrics_text(const std::vector<LoopStats>* samples) const {
  MetricsSources s;
  for (const auto& ctx : loops) {
    s.transports.push_back(&ctx->transport_metrics);
    s.loops.push_back(&ctx->metrics);
    s.bytes_received.push_back(ctx->loop.bytes_received.get());
    s.bytes_sent.push_back(ctx->loop.bytes_sent.get());
    s.heartbeat_age_ms.push_back(ctx->heartbeat.age_ms());
    for (size_t i = 0; i < kLogEvents; ++i) {
      s.log_suppressed[i] += ctx->log_limiter.suppressed(static_cast<LogEvent>(i));
    }
  }
  s.samples = samples;
  s.store = store.get();
  s.redis = redis != nullptr ? &redis->metrics() : nullptr;
  std::string text = render_prometheus(s);
  if (!pusher_apps.empty()) {
    std::vector<const pusher::Metrics*> pusher_loops;
    for (const auto& ctx : loops) {
      if (ctx->pusher) {
        pusher_loops.push_back(&ctx->pusher->metrics());
      }
    }
    pusher::render_metrics(text, pusher_loops);
    if (webhooks) {
      webhooks->render_metrics(text);
    }
  }
  return text;
}

void LoopContext::serve_metrics(transport::HttpSession& http, const http::Request& req) {
  uint64_t ticket = http.begin_async();
  uint64_t id = http.conn().id();
  bool keep = req.keep_alive;
  gather_loop_stats(*this, [this, id, ticket, keep](std::vector<LoopStats> loops) {
    auto it = async_waiting.find(id);
    if (it == async_waiting.end()) {
      return;  // the scraper went away
    }
    it->second->answer_async(ticket, 200, kPrometheusText, core.metrics_text(&loops), keep);
  });
}

void LoopContext::on_client_opened(transport::Kind kind, uint64_t id, std::string_view remote,
                                   std::string_view path) {
  if (!log_enabled(spdlog::level::info) || !log_limiter.admit(LogEvent::kConnect, loop.now_ms())) {
    return;
  }
  LogLine line("connect");
  line.field("transport", transport::to_string(kind)).field("conn", id);
  if (!remote.empty()) {
    line.field("remote", remote);
  }
  if (!path.empty()) {
    line.field("path", path);
  }
  line.field("loop", static_cast<uint64_t>(loop.index())).write(spdlog::level::info);
}

void LoopContext::on_client_closed(transport::Kind kind, uint64_t id, transport::EndReason reason,
                                   uint16_t code, uint64_t duration_ms) {
  if (!log_enabled(spdlog::level::info) ||
      !log_limiter.admit(LogEvent::kDisconnect, loop.now_ms())) {
    return;
  }
  LogLine line("disconnect");
  line.field("transport", transport::to_string(kind))
      .field("conn", id)
      .field("reason", transport::to_string(reason));
  if (code != 0) {
    line.field("code", static_cast<uint64_t>(code));
  }
  line.number("duration_s", static_cast<double>(duration_ms) / 1000)
      .field("loop", static_cast<uint64_t>(loop.index()))
      .write(spdlog::level::info);
}

}  // namespace herald::server
