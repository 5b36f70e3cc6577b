// Server: the public entry point. It builds one LoopContext per event loop, binds one
// SO_REUSEPORT listener per loop, runs each loop on its own thread and drains them on stop().

#include "herald/server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "broker/memory_broker.h"
#include "broker/redis_broker.h"
#include "broker/redis_cluster.h"
#include "server/cluster.h"
#include "server/cluster_api.h"
#include "server/loop_context.h"
#include "server/protocol_handler.h"
#include "server/pusher_host.h"
#include "server/token_keys.h"
#include "transport/connection.h"
#include "transport/http_session.h"
#include "transport/tcp_lines.h"
#include "ws/frame.h"

namespace herald {

struct Server::Impl {
  server::ServerCore core;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  bool started = false;
  mutable std::mutex reload_mutex;  // one reload at a time; guards the descriptions
  std::string tls_description;
  std::string tokens_description;

  // A new socket from the HTTP listener (tcp: from the raw TCP listener).
  void accept(server::LoopContext& ctx, int fd, const sockaddr_storage& peer, bool tcp);
  // Opens one listener per loop on ep (SO_REUSEPORT); the first may pick the port (port 0).
  Result<Ok> open_listeners(const net::Endpoint& ep, bool tcp);
};

namespace {

// Every connection is one descriptor; the soft limit is often 1024, far below what one server
// holds. Raise it to the hard limit once.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// The systemd watchdog, on loop 0: WATCHDOG=1 every half WatchdogSec while every loop's heartbeat
// is fresh (liveness.h). A stalled loop (or loop 0 itself stuck) stops the pings, and systemd
// restarts the server. `warned`: a stall was logged already.
void watchdog_tick(server::LoopContext& ctx, bool warned) {
  server::ServerCore& core = ctx.core;
  std::vector<int> stalled = core.stalled_loops();
  if (stalled.empty()) {
    core.systemd.notify("WATCHDOG=1");
    warned = false;
  } else if (!warned) {
    spdlog::error("loop {} has not turned for over {} ms: /health answers 503 and the systemd "
                  "watchdog is no longer fed",
                  stalled.front(), core.options.stall_timeout_ms);
    warned = true;
  }
  ctx.loop.run_after(core.systemd.watchdog_interval_ms(),
                     [&ctx, warned] { watchdog_tick(ctx, warned); });
}

// Bounds the drain of one loop: whoever has not closed by the deadline is cut off.
class DrainDeadline : public net::Timer {
 public:
  explicit DrainDeadline(server::LoopContext& ctx) : ctx_(ctx) {}

 private:
  void on_timer() override {
    for (transport::Connection* c = ctx_.first_connection; c != nullptr;) {
      transport::Connection* next = c->next;
      c->abort(net::CloseReason::kShutdown);
      c = next;
    }
    ctx_.loop.stop();
  }
  server::LoopContext& ctx_;
};

}  // namespace

void Server::Impl::accept(server::LoopContext& ctx, int fd, const sockaddr_storage& peer,
                          bool tcp) {
  ctx.transport_metrics.connections_accepted.add();
  size_t open = core.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (open >= core.options.max_connections || ctx.draining) {
    core.open_connections.fetch_sub(1, std::memory_order_relaxed);
    ctx.transport_metrics.connections_rejected.add();
    if (tcp) {
      static constexpr char kBusyLine[] =
          R"({"push":"disconnect","code":1013,"reason":"too many connections"})"
          "\n";
      ssize_t n = ::write(fd, kBusyLine, sizeof(kBusyLine) - 1);
      (void)n;  // best effort, as below
      ::close(fd);
      return;
    }
    static constexpr char kBusy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: 45\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"
        R"({"error":"too many connections","status":503})";
    if (ctx.tls == nullptr) {  // a TLS client could not read a plaintext answer: just close
      ssize_t n = ::write(fd, kBusy, sizeof(kBusy) - 1);
      (void)n;  // best effort: the socket is fresh, its buffer is empty
    }
    ::close(fd);
    return;
  }
  if (core.limits->checks_ips()) {
    using Admit = server::SharedLimits::Admit;
    Admit admit = core.limits->admit_ip(transport::ip_bytes(peer), ctx.loop.now_ms());
    if (admit != Admit::kOk) {
      core.open_connections.fetch_sub(1, std::memory_order_relaxed);
      (admit == Admit::kTooMany ? ctx.metrics.ip_connection_refusals
                                : ctx.metrics.ip_rate_refusals)
          .add();
      static constexpr char kTooManyLine[] =
          R"({"push":"disconnect","code":1013,"reason":"too many connections from this address"})"
          "\n";
      static constexpr char kTooMany[] =
          "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
          "Content-Length: 63\r\nConnection: close\r\nRetry-After: 5\r\n\r\n"
          R"({"error":"too many connections from this address","status":429})";
      if (ctx.tls == nullptr) {  // best effort; a TLS client could not read it: just close
        ssize_t n = tcp ? ::write(fd, kTooManyLine, sizeof(kTooManyLine) - 1)
                        : ::write(fd, kTooMany, sizeof(kTooMany) - 1);
        (void)n;
      }
      ::close(fd);
      return;
    }
  }
  uint64_t id = core.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  auto* c = new transport::Connection(ctx, fd, peer, id);  // owned by the loop; freed by Stream
  ctx.add_connection(c);
  if (tcp) {
    auto lines = std::make_unique<transport::TcpLines>(*c);
    transport::TcpLines* raw = lines.get();
    c->become(std::move(lines));
    if (!c->start(ctx.tls.get())) {
      c->abort(net::CloseReason::kLocal);
      return;
    }
    raw->open();
    return;
  }
  c->become(std::make_unique<transport::HttpSession>(*c));
  if (!c->start(ctx.tls.get())) {
    c->abort(net::CloseReason::kLocal);
  }
}

Result<Ok> Server::Impl::open_listeners(const net::Endpoint& endpoint, bool tcp) {
  for (auto& ctx : core.loops) {
    server::LoopContext* raw = ctx.get();
    auto listener = std::make_unique<net::Listener>(
        raw->loop,
        [this, raw, tcp](int fd, const sockaddr_storage& peer) { accept(*raw, fd, peer, tcp); });
    net::Endpoint ep = endpoint;
    if (ctx != core.loops.front()) {
      auto& first = tcp ? core.loops.front()->tcp_listener : core.loops.front()->listener;
      ep.port = first->bound_port();
    }
    if (auto r = listener->open(ep); !r) {
      return Error{r.error()};
    }
    (tcp ? raw->tcp_listener : raw->listener) = std::move(listener);
  }
  return Ok{};
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->core.options = std::move(options);
  const ServerOptions& o = impl_->core.options;
  impl_->core.limits = std::make_unique<server::SharedLimits>(server::LimitOptions{
      o.max_connections_per_ip, o.connection_rate_per_ip, o.max_connections_per_user,
      o.publish_rate_per_user, o.api_rate});
  impl_->core.http_limits.max_body = 1 << 20;
  impl_->core.deflate.enabled = impl_->core.options.permessage_deflate;
  impl_->core.deflate.max_inflated_message = impl_->core.options.max_message_size;
}

Server::~Server() {
  if (impl_->started) {
    stop();
    run();
  }
}

void Server::websocket(std::string path, HandlerFactory factory) {
  impl_->core.routes.push_back({std::move(path), std::move(factory), {}, {}});
}

void Server::protocol(std::string path) {
  // "herald.v1" may be offered by clients that must state a subprotocol; none is required.
  impl_->core.routes.push_back({std::move(path),
                                {},
                                [](server::LoopContext& ctx) {
                                  return server::make_protocol_handler(ctx);
                                },
                                {"herald.v1"}});
}

void Server::web_pages() { impl_->core.web = std::make_unique<server::StaticFiles>(); }

Result<Ok> Server::start() {
  server::ServerCore& core = impl_->core;
  auto endpoint = net::parse_endpoint(core.options.listen);
  if (!endpoint) {
    return Error{endpoint.error()};
  }
  // The certificate and key are checked before anything listens: a bad path stops the start.
  std::shared_ptr<const net::TlsContext> tls;
  if (!core.options.tls_cert.empty() || !core.options.tls_key.empty()) {
    if (core.options.tls_cert.empty() || core.options.tls_key.empty()) {
      return Error{"tls_cert and tls_key go together: set both, or neither for plain TCP"};
    }
    auto loaded = net::TlsContext::load(core.options.tls_cert, core.options.tls_key);
    if (!loaded) {
      return Error{loaded.error()};
    }
    tls = std::move(*loaded);
    std::lock_guard<std::mutex> lock(impl_->reload_mutex);
    impl_->tls_description = tls->description();
  }
  // So are the token key files: a server that would refuse every token must not start.
  auto tokens = server::load_token_verifier(core.options);
  if (!tokens) {
    return Error{tokens.error()};
  }
  if (*tokens) {
    std::lock_guard<std::mutex> lock(impl_->reload_mutex);
    impl_->tokens_description = (*tokens)->describe();
  }
  std::optional<net::Endpoint> tcp_endpoint;
  if (!core.options.tcp_listen.empty()) {
    auto parsed = net::parse_endpoint(core.options.tcp_listen);
    if (!parsed) {
      return Error{"tcp_listen: " + parsed.error()};
    }
    tcp_endpoint = *parsed;
  }
  // Before anything else starts: a second server must not quietly share the port.
  if (auto free = net::ensure_address_free(*endpoint); !free) {
    return Error{free.error()};
  }
  if (tcp_endpoint) {
    if (auto free = net::ensure_address_free(*tcp_endpoint); !free) {
      return Error{free.error()};
    }
  }
  raise_fd_limit();
  int threads = core.options.threads > 0 ? core.options.threads
                                         : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) {
    threads = 1;
  }
  for (int i = 0; i < threads; ++i) {
    auto ctx = std::make_unique<server::LoopContext>(i, core);
    if (auto r = ctx->loop.init(); !r) {
      return Error{r.error()};
    }
    ctx->tls = tls;
    ctx->tokens = *tokens;
    for (const auto& route : core.routes) {
      ctx->handlers.push_back(route.loop_factory ? route.loop_factory(*ctx) : route.factory());
    }
    core.loops.push_back(std::move(ctx));
  }
  if (auto r = impl_->open_listeners(*endpoint, false); !r) {
    return r;
  }
  if (tcp_endpoint) {
    if (core.loops.front()->endpoint == nullptr) {
      return Error{"tcp_listen needs the Herald protocol, and this server serves none"};
    }
    if (auto r = impl_->open_listeners(*tcp_endpoint, true); !r) {
      return r;
    }
  }
  // Channels: one broker over every loop: Redis, or in this process (durable when a data
  // directory is configured).
  bool redis = core.options.broker == "redis";
  if (!redis && !core.options.data_dir.empty()) {
    store::StoreOptions so;
    so.path = core.options.data_dir + "/history.db";
    so.idempotency_window_ms = broker::kIdempotencyWindowMs;
    auto opened = store::HistoryStore::open(so);
    if (!opened) {
      return Error{"history store: " + opened.error()};
    }
    core.store = std::move(*opened);
  }
  std::vector<net::EventLoop*> loop_ptrs;
  for (auto& ctx : core.loops) {
    loop_ptrs.push_back(&ctx->loop);
  }
  if (auto r = pusher::Apps::validate(core.options.pusher_apps); !r) {
    return r;
  }
  core.pusher_apps = pusher::Apps(core.options.pusher_apps);
  if (std::any_of(core.pusher_apps.all().begin(), core.pusher_apps.all().end(),
                  [](const auto& app) { return !app->options.webhooks.empty(); })) {
    core.webhooks = std::make_unique<pusher::Webhooks>(core.pusher_apps,
                                                       core.options.pusher_webhook_tls_ca);
    if (auto r = core.webhooks->start(); !r) {
      return r;
    }
  }
  core.namespaces = hub::Namespaces(core.options.default_namespace, core.options.namespaces,
                                    server::pusher_namespaces(core.pusher_apps,
                                                              core.options.namespaces));
  core.origins = auth::OriginPolicy(core.options.allowed_origins);
  const hub::Namespaces* namespaces = &core.namespaces;
  broker::HistoryPolicy policy = [namespaces](std::string_view channel) {
    return namespaces->history(channel);
  };
  if (redis) {
    broker::RedisBrokerOptions ro;
    for (const std::string& one : broker::split_redis_urls(core.options.redis_url)) {
      auto url = broker::parse_redis_url(one);
      if (!url) {
        return Error{url.error()};
      }
      for (const broker::RedisUrl& seen : ro.shards) {
        if (seen.address() == url->address() && seen.db == url->db) {
          return Error{"redis_url lists " + url->address() + " twice"};
        }
      }
      ro.shards.push_back(*url);
    }
    if (ro.shards.empty()) {
      return Error{"broker is redis but no redis_url is set (redis://host:port)"};
    }
    bool redis_tls = std::any_of(ro.shards.begin(), ro.shards.end(),
                                 [](const broker::RedisUrl& u) { return u.tls; });
    if (redis_tls) {
      net::TlsContext::ClientFiles files{core.options.redis_tls_ca, core.options.redis_tls_cert,
                                         core.options.redis_tls_key, "redis_"};
      auto loaded = net::TlsContext::load_client(files);
      if (!loaded) {
        return Error{loaded.error()};
      }
      ro.tls = std::move(*loaded);
      spdlog::info("redis broker: TLS to Redis, trusting {}", ro.tls->description());
    }
    if (core.options.redis_cluster) {
      auto map = broker::discover_cluster(ro.shards, 2'000, ro.tls.get());
      if (!map) {
        return Error{map.error()};
      }
      ro.shards = std::move(map->masters);
      ro.cluster_slots = std::move(map->slots);
    }
    ro.prefix = core.options.redis_prefix;
    ro.presence_lease_ms = core.options.redis_presence_lease_ms;
    auto rb = std::make_unique<broker::RedisBroker>(loop_ptrs, ro, policy);
    if (core.webhooks) {
      // Webhooks are decided once per cluster; the holds of a node that died end here.
      core.abandoned_hooks =
          std::make_unique<pusher::AbandonedHooks>(core.pusher_apps, *core.webhooks);
      rb->set_hold_sink(core.abandoned_hooks.get());
    }
    if (auto r = rb->start(); !r) {
      return Error{"redis broker: " + r.error()};
    }
    // Serving before Redis answers would refuse the first clients' subscribes (501): give it a
    // moment. A Redis that is down does not stop the start: the broker keeps reconnecting, and
    // until then calls fail with the temporary error.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    // Once this node is in the zset of nodes the others can count it and relay to it.
    while ((!rb->ready() || rb->nodes().empty()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    core.redis = rb.get();
    core.broker = std::move(rb);
    // Client ids are the connection ids in hex, and several nodes share presence and the
    // per-user counts in Redis by client id: each node numbers its connections from a random
    // 62-bit start, so two nodes' ids meet with a chance of about connections / 2^62.
    std::random_device random;
    uint64_t start = (uint64_t{random()} << 32 | random()) & 0x3fff'ffff'ffff'ffffULL;
    core.next_connection_id.store(start | 1, std::memory_order_relaxed);
  } else {
    core.broker = std::make_unique<broker::MemoryBroker>(loop_ptrs, core.store.get(), policy);
  }
  for (auto& ctx : core.loops) {
    ctx->hub = std::make_unique<hub::Hub>(ctx->loop.index(), *core.broker);
    if (!core.pusher_apps.empty()) {
      ctx->pusher = server::make_pusher_endpoint(core.pusher_apps, *ctx);
    }
    if (core.options.latency_metrics) {
      ctx->hub->on_delivered = [m = &ctx->metrics](const broker::PublicationBatch& batch,
                                                   size_t members) {
        observe_delivery(*m, batch, members);
      };
    }
  }
  if (redis) {
    core.cluster = std::make_unique<server::Cluster>(core);
    server::register_cluster_api(*core.cluster);
    server::register_cluster_sessions(*core.cluster);
    server::register_pusher_cluster(*core.cluster);
  }
  for (auto& ctx : core.loops) {
    server::LoopContext* raw = ctx.get();
    raw->loop.post([raw] { raw->heartbeat.start(); });
  }
  if (core.systemd.watchdog_interval_ms() > 0) {
    server::LoopContext* first = core.loops.front().get();
    first->loop.post([first] { watchdog_tick(*first, false); });
  }
  for (auto& ctx : core.loops) {
    server::LoopContext* raw = ctx.get();
    impl_->threads.emplace_back([raw] {
      // "herald-loop-N" in top -H, /proc/PID/task/*/comm, gdb and the liveness test.
      std::string name = "herald-loop-" + std::to_string(raw->loop.index());
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      server::set_current_loop(raw);
      raw->loop.run();
      server::set_current_loop(nullptr);
    });
  }
  impl_->started = true;
  core.systemd.notify("READY=1");
  return Ok{};
}

uint16_t Server::port() const {
  const auto& loops = impl_->core.loops;
  return loops.empty() ? 0 : loops.front()->listener->bound_port();
}

uint16_t Server::tcp_port() const {
  const auto& loops = impl_->core.loops;
  return loops.empty() || !loops.front()->tcp_listener ? 0
                                                       : loops.front()->tcp_listener->bound_port();
}

void Server::run() {
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  if (impl_->core.redis != nullptr) {
    impl_->core.redis->stop();  // its thread posts to the loops: it ends before they go
  }
  impl_->started = false;
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) {
    return;
  }
  impl_->core.systemd.notify("STOPPING=1");
  uint32_t deadline_ms = impl_->core.options.drain_timeout_ms;
  for (auto& ctx : impl_->core.loops) {
    server::LoopContext* raw = ctx.get();
    raw->loop.post([raw, deadline_ms] {
      auto deadline = std::make_unique<DrainDeadline>(*raw);
      raw->loop.timers().arm(*deadline, raw->loop.now_ms(), deadline_ms);
      raw->drain_deadline = std::move(deadline);
      raw->begin_drain();
    });
  }
}

void Server::publish(std::string_view topic, std::string_view data, MessageType type) {
  impl_->core.publish(transport::Publication::make(topic, data, type, 0));
}

std::string Server::metrics_text() const { return impl_->core.metrics_text(); }

Result<std::string> Server::reload_tls() {
  std::lock_guard<std::mutex> lock(impl_->reload_mutex);
  const ServerOptions& options = impl_->core.options;
  if (options.tls_cert.empty()) {
    return Error{"TLS is not configured (no tls_cert)"};
  }
  auto loaded = net::TlsContext::load(options.tls_cert, options.tls_key);
  if (!loaded) {
    return Error{loaded.error()};
  }
  std::shared_ptr<const net::TlsContext> tls = std::move(*loaded);
  // Each loop swaps its pointer on its own thread: no lock on the accept path. The old context
  // is freed when the last loop lets go of it; connections made from it hold their own reference
  // to its SSL_CTX.
  for (auto& ctx : impl_->core.loops) {
    server::LoopContext* raw = ctx.get();
    raw->loop.post([raw, tls] { raw->tls = tls; });
  }
  impl_->tls_description = tls->description();
  return tls->description();
}

Result<std::string> Server::reload_tokens() {
  std::lock_guard<std::mutex> lock(impl_->reload_mutex);
  const ServerOptions& options = impl_->core.options;
  if (options.token_public_key.empty() && options.token_jwks_file.empty()) {
    return Error{"no token key file is configured (token_public_key, token_jwks_file)"};
  }
  auto loaded = server::load_token_verifier(options);
  if (!loaded) {
    return Error{loaded.error()};
  }
  std::shared_ptr<const auth::TokenVerifier> tokens = *loaded;
  // As for TLS: each loop swaps its pointer on its own thread; a verification running on a
  // loop finishes with the verifier it started with.
  for (auto& ctx : impl_->core.loops) {
    server::LoopContext* raw = ctx.get();
    raw->loop.post([raw, tokens] { raw->tokens = tokens; });
  }
  impl_->tokens_description = tokens->describe();
  return impl_->tokens_description;
}

std::string Server::token_keys() const {
  std::lock_guard<std::mutex> lock(impl_->reload_mutex);
  return impl_->tokens_description;
}

std::string Server::tls_certificate() const {
  std::lock_guard<std::mutex> lock(impl_->reload_mutex);
  return impl_->tls_description;
}

}  // namespace herald
