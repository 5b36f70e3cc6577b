#include "serve_command.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "herald/server.h"
#include "net/tls_context.h"
#include "server/builtin_handlers.h"
#include "server/config.h"
#include "server/log.h"
#include "server/pusher_config.h"
#include "server/token_keys.h"

namespace herald::app {
namespace {

int g_exit_code = 0;

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::string tcp_listen;
  std::vector<std::string> allow_origins;
  std::vector<std::string> pusher_apps;  // ID:KEY:SECRET each
  int threads = -1;
  bool echo = false;
  bool no_web_pages = false;
  long long max_message_size = 0;
  double head_timeout = -1;
  double ping_interval = -1;
  double pong_timeout = -1;
  double poll_timeout = -1;
  double session_timeout = -1;
  double idle_timeout = -1;
  double stall_timeout = -1;
  long long max_connections = 0;
  bool no_deflate = false;
  std::string data_dir;
  bool memory = false;
  std::string broker;
  std::vector<std::string> redis_url;  // --redis, repeated for several shards
  bool redis_cluster = false;
  std::string redis_prefix;
  std::string api_key;
  std::string token_secret;
  std::string token_public_key;
  std::string token_jwks_file;
  std::string token_audience;
  std::string token_issuer;
  std::string tls_cert;
  std::string tls_key;
  std::string log_level;
  std::string log_format;
};

// Defaults, then the file, then flags: the last word wins.
Result<server::ServeConfig> build_config(const ServeFlags& f) {
  server::ServeConfig cfg;
  if (!f.config_path.empty()) {
    if (auto r = server::load_config_file(f.config_path, cfg); !r) {
      return Error{r.error()};
    }
  }
  if (!f.listen.empty()) {
    cfg.server.listen = f.listen;
  }
  if (!f.tcp_listen.empty()) {
    cfg.server.tcp_listen = f.tcp_listen;
  }
  if (!f.allow_origins.empty()) {
    cfg.server.allowed_origins = f.allow_origins;
  }
  // $HERALD_PUSHER_APPS: apps as --pusher-app takes them, separated by spaces or newlines, so
  // that their secrets need not be on the command line (visible in ps) or in the config file.
  std::vector<std::string> app_flags;
  if (const char* env = std::getenv("HERALD_PUSHER_APPS"); env != nullptr) {
    std::string_view rest = env;
    while (!rest.empty()) {
      size_t start = rest.find_first_not_of(" \t\r\n");
      if (start == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(start);
      size_t end = rest.find_first_of(" \t\r\n");
      app_flags.emplace_back(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
  }
  app_flags.insert(app_flags.end(), f.pusher_apps.begin(), f.pusher_apps.end());
  for (const std::string& flag : app_flags) {
    auto app = server::parse_pusher_app_flag(flag);
    if (!app) {
      return Error{app.error()};
    }
    cfg.server.pusher_apps.push_back(std::move(*app));
  }
  if (f.threads >= 0) {
    cfg.server.threads = f.threads;
  }
  if (f.echo) {
    cfg.echo = true;
  }
  if (f.no_web_pages) {
    cfg.web_pages = false;
  }
  if (f.max_message_size > 0) {
    cfg.server.max_message_size = static_cast<size_t>(f.max_message_size);
    if (cfg.server.max_output_bytes < cfg.server.max_message_size) {
      cfg.server.max_output_bytes = cfg.server.max_message_size * 2;
    }
  }
  if (f.head_timeout >= 0) {
    cfg.server.head_timeout_ms = static_cast<uint32_t>(f.head_timeout * 1000);
  }
  if (f.ping_interval >= 0) {
    cfg.server.ping_interval_ms = static_cast<uint32_t>(f.ping_interval * 1000);
  }
  if (f.pong_timeout >= 0) {
    cfg.server.pong_timeout_ms = static_cast<uint32_t>(f.pong_timeout * 1000);
  }
  if (f.poll_timeout >= 0) {
    cfg.server.poll_timeout_ms = static_cast<uint32_t>(f.poll_timeout * 1000);
  }
  if (f.session_timeout >= 0) {
    cfg.server.session_timeout_ms = static_cast<uint32_t>(f.session_timeout * 1000);
  }
  if (f.idle_timeout >= 0) {
    cfg.server.idle_timeout_ms = static_cast<uint32_t>(f.idle_timeout * 1000);
  }
  if (f.stall_timeout >= 0) {
    cfg.server.stall_timeout_ms = static_cast<uint32_t>(f.stall_timeout * 1000);
  }
  if (f.max_connections > 0) {
    cfg.server.max_connections = static_cast<size_t>(f.max_connections);
  }
  if (f.no_deflate) {
    cfg.server.permessage_deflate = false;
  }
  if (!f.data_dir.empty()) {
    cfg.server.data_dir = f.data_dir;
  }
  if (f.memory) {
    cfg.server.data_dir.clear();
  }
  if (!f.redis_url.empty()) {
    cfg.server.redis_url.clear();
    for (const std::string& url : f.redis_url) {
      cfg.server.redis_url += (cfg.server.redis_url.empty() ? "" : " ") + url;
    }
    cfg.server.broker = "redis";  // --redis URL alone means "use it"
  }
  if (!f.broker.empty()) {
    cfg.server.broker = f.broker;
  }
  if (f.redis_cluster) {
    cfg.server.redis_cluster = true;
  }
  if (!f.redis_prefix.empty()) {
    cfg.server.redis_prefix = f.redis_prefix;
  }
  if (const char* env = std::getenv("HERALD_API_KEY"); env != nullptr && *env != '\0') {
    cfg.server.api_key = env;
  }
  if (!f.api_key.empty()) {
    cfg.server.api_key = f.api_key;
  }
  if (const char* env = std::getenv("HERALD_TOKEN_SECRET"); env != nullptr && *env != '\0') {
    cfg.server.token_hmac_secret = env;
  }
  if (!f.token_secret.empty()) {
    cfg.server.token_hmac_secret = f.token_secret;
  }
  for (auto [flag, option] : {std::pair{&f.token_public_key, &cfg.server.token_public_key},
                              std::pair{&f.token_jwks_file, &cfg.server.token_jwks_file},
                              std::pair{&f.token_audience, &cfg.server.token_audience},
                              std::pair{&f.token_issuer, &cfg.server.token_issuer}}) {
    if (!flag->empty()) {
      *option = *flag;
    }
  }
  if (!f.tls_cert.empty()) {
    cfg.server.tls_cert = f.tls_cert;
  }
  if (!f.tls_key.empty()) {
    cfg.server.tls_key = f.tls_key;
  }
  if (!f.log_level.empty()) {
    cfg.log_level = f.log_level;
  }
  if (!f.log_format.empty()) {
    cfg.log_format = f.log_format;
  }
  if (auto r = server::validate(cfg); !r) {
    return Error{r.error()};
  }
  return cfg;
}

void add_serve_flags(CLI::App* cmd, ServeFlags& f) {
  cmd->add_option("--config", f.config_path, "YAML configuration file");
  cmd->add_option("--listen", f.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--tcp-listen", f.tcp_listen,
                  "HOST:PORT for the protocol over raw TCP, one JSON per line (default: off)");
  cmd->add_option("--allow-origin", f.allow_origins,
                  "a page origin allowed to connect from a browser (repeatable; wildcards as "
                  "https://*.example.com, http://localhost:*); default: any");
  cmd->add_option("--threads", f.threads, "event loops, 0 = one per core (default)");
  cmd->add_option("--pusher-app", f.pusher_apps,
                  "a Pusher-compatible app as ID:KEY:SECRET (repeatable; docs/PUSHER.md; also "
                  "$HERALD_PUSHER_APPS, space-separated, which keeps secrets out of ps); its "
                  "other options only in the config file");
  cmd->add_flag("--echo", f.echo, "also serve /echo (conformance tests, benchmarks)");
  cmd->add_flag("--no-web-pages", f.no_web_pages,
                "do not serve the chat page (/) and the dashboard (/dashboard)");
  cmd->add_option("--max-message-size", f.max_message_size, "bytes; larger messages get 1009");
  cmd->add_option("--head-timeout", f.head_timeout, "seconds a request head may take");
  cmd->add_option("--ping-interval", f.ping_interval, "seconds of silence before a ping");
  cmd->add_option("--pong-timeout", f.pong_timeout, "seconds a pinged client has to answer");
  cmd->add_option("--poll-timeout", f.poll_timeout, "seconds a long-poll is held (default 25)");
  cmd->add_option("--session-timeout", f.session_timeout,
                  "seconds before a long-poll session nobody polls is collected (default 30)");
  cmd->add_option("--idle-timeout", f.idle_timeout, "seconds an idle HTTP connection is kept");
  cmd->add_option("--stall-timeout", f.stall_timeout,
                  "seconds a loop may stop turning before /health fails (default 10)");
  cmd->add_option("--max-connections", f.max_connections, "connections over all loops");
  cmd->add_flag("--no-deflate", f.no_deflate, "never negotiate permessage-deflate");
  cmd->add_option("--data-dir", f.data_dir, "durable channel history here (default ./herald-data)");
  cmd->add_flag("--memory", f.memory, "keep channel history in memory only (lost on restart)");
  cmd->add_option("--broker", f.broker,
                  "memory (this process, one node) or redis (several nodes share --redis)");
  cmd->add_option("--redis", f.redis_url,
                  "redis[s]://[user:pass@]host:port/db: channels in Redis (implies --broker redis; "
                  "rediss: TLS, see redis_tls_ca); "
                  "repeat it for several independent Redis sharing the channels");
  cmd->add_flag("--redis-cluster", f.redis_cluster,
                "--redis names seed nodes of a Redis Cluster (masters and slots read at start)");
  cmd->add_option("--redis-prefix", f.redis_prefix,
                  "prefix of every Redis key (default herald): clusters can share one Redis");
  cmd->add_option("--token-secret", f.token_secret,
                  "HS256 secret of connection tokens (default: $HERALD_TOKEN_SECRET)");
  cmd->add_option("--token-public-key", f.token_public_key,
                  "PEM file of token public keys: RSA verifies RS256, EC P-256 ES256 (SIGHUP "
                  "reloads it)");
  cmd->add_option("--token-jwks-file", f.token_jwks_file,
                  "JWKS file of token keys, chosen by the token's kid (SIGHUP reloads it)");
  cmd->add_option("--token-audience", f.token_audience, "tokens must carry this in \"aud\"");
  cmd->add_option("--token-issuer", f.token_issuer, "tokens must carry this \"iss\"");
  cmd->add_option("--api-key", f.api_key,
                  "key for POST /api/... (X-API-Key; also HERALD_API_KEY); none: loopback only");
  cmd->add_option("--tls-cert", f.tls_cert,
                  "PEM certificate chain: serve https/wss (with --tls-key); SIGHUP reloads it");
  cmd->add_option("--tls-key", f.tls_key, "PEM private key of --tls-cert (unencrypted)");
  cmd->add_option("--log-level", f.log_level,
                  "trace, debug, info (default: one line per connect and disconnect), warn, "
                  "error, critical, off");
  cmd->add_option("--log-format", f.log_format,
                  "text (default), json (one object per line) or logfmt");
}

// What SIGHUP reads again: files that are rotated while the server runs.
struct Reloadable {
  bool tls = false;         // tls_cert and tls_key
  bool token_keys = false;  // token_public_key and token_jwks_file
};

// SIGINT and SIGTERM drain and stop (a second one exits at once); SIGHUP reloads the TLS
// certificate and key and the token key files, each on its own: one that fails leaves the old
// one in use and says so in one line. Runs on its own thread, which calls nothing on the server
// once stop() was called (run_serve may then return and destroy it).
void handle_signals(Server& server, const sigset_t& signals, Reloadable reloadable) {
  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      break;
    }
    if (!reloadable.tls && !reloadable.token_keys) {
      spdlog::warn("SIGHUP: no TLS certificate and no token key file configured, nothing to "
                   "reload");
      continue;
    }
    if (reloadable.tls) {
      auto reloaded = server.reload_tls();
      if (reloaded) {
        spdlog::info("SIGHUP: TLS certificate reloaded for new connections: {}", *reloaded);
      } else {
        spdlog::error("SIGHUP: TLS reload failed, still serving the previous certificate: {}",
                      reloaded.error());
      }
    }
    if (reloadable.token_keys) {
      auto reloaded = server.reload_tokens();
      if (reloaded) {
        spdlog::info("SIGHUP: token keys reloaded: {}", *reloaded);
      } else {
        spdlog::error("SIGHUP: token key reload failed, still verifying with the previous "
                      "keys: {}",
                      reloaded.error());
      }
    }
  }
  spdlog::info("signal {}: draining connections", sig);
  server.stop();
  do {
    sigwait(&signals, &sig);  // a second SIGINT/SIGTERM does not wait for the drain
  } while (sig == SIGHUP);
  spdlog::warn("second signal: exiting now");
  std::_Exit(130);
}

int run_serve(const ServeFlags& flags) {
  auto cfg = build_config(flags);
  if (!cfg) {
    std::fprintf(stderr, "herald: %s\n", cfg.error().c_str());
    return 2;
  }
  // Both were checked by validate().
  server::install_logging(server::parse_log_format(cfg->log_format).value(),
                          server::parse_log_level(cfg->log_level).value());

  // Signals are taken by one thread with sigwait(), so no loop is interrupted and stop() runs in
  // an ordinary thread. Blocked here, before any loop thread exists, so they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Server server(cfg->server);
  server.websocket("/chat", server::make_chat_room);
  server.protocol("/connection/websocket");
  if (cfg->echo) {
    server.websocket("/echo", server::make_echo);
  }
  if (cfg->web_pages) {
    server.web_pages();
  }
  if (auto r = server.start(); !r) {
    std::fprintf(stderr, "herald: cannot start: %s\n", r.error().c_str());
    return 1;
  }
  bool tls = !cfg->server.tls_cert.empty();
  std::string host = cfg->server.listen.substr(0, cfg->server.listen.rfind(':'));
  std::printf("herald listening on %s://%s:%u\n", tls ? "https" : "http",
              host.empty() ? "0.0.0.0" : host.c_str(), server.port());
  if (server.tcp_port() != 0) {
    std::string tcp_host = cfg->server.tcp_listen.substr(0, cfg->server.tcp_listen.rfind(':'));
    std::printf("herald tcp on %s://%s:%u\n", tls ? "tls" : "tcp",
                tcp_host.empty() ? "0.0.0.0" : tcp_host.c_str(), server.tcp_port());
  }
  std::fflush(stdout);
  std::string history = cfg->server.broker == "redis"
                            ? "in Redis (prefix " + cfg->server.redis_prefix + ")"
                        : cfg->server.data_dir.empty() ? std::string("in memory")
                                                       : "durable in " + cfg->server.data_dir;
  spdlog::info("serving /connection/websocket, /chat{}{} with {} event loop(s); history {}; "
               "Ctrl-C drains and stops",
               cfg->echo ? ", /echo" : "", cfg->web_pages ? ", the pages / and /dashboard" : "",
               cfg->server.threads > 0 ? cfg->server.threads
                                       : static_cast<int>(std::thread::hardware_concurrency()),
               history);

  if (cfg->server.allowed_origins.empty() && !host.starts_with("127.") && host != "localhost" &&
      host != "[::1]") {
    spdlog::warn("no allowed_origins configured: any web page may open a connection here "
                 "(set allowed_origins for a public server)");
  }
  if (tls) {
    spdlog::info("TLS (https, wss) with {}", server.tls_certificate());
  }
  std::string token_keys = server.token_keys();
  if (!token_keys.empty()) {
    spdlog::info("tokens verified with {}", token_keys);
  }
  if (cfg->server.api_key.empty()) {
    spdlog::warn("no API key configured: the server API (/api/...) answers loopback peers only");
  }

  Reloadable reloadable{tls, !cfg->server.token_public_key.empty() ||
                                !cfg->server.token_jwks_file.empty()};
  std::thread signal_thread(
      [&server, signals, reloadable] { handle_signals(server, signals, reloadable); });
  signal_thread.detach();
  server.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "run the server");
  add_serve_flags(cmd, *flags);
  cmd->callback([flags] { g_exit_code = run_serve(*flags); });
}

void register_check_config(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("check-config", "validate a configuration and print it");
  add_serve_flags(cmd, *flags);
  cmd->callback([flags] {
    auto cfg = build_config(*flags);
    if (!cfg) {
      std::fprintf(stderr, "herald: %s\n", cfg.error().c_str());
      g_exit_code = 2;
      return;
    }
    if (!cfg->server.tls_cert.empty()) {
      auto tls = net::TlsContext::load(cfg->server.tls_cert, cfg->server.tls_key);
      if (!tls) {
        std::fprintf(stderr, "herald: %s\n", tls.error().c_str());
        g_exit_code = 2;
        return;
      }
    }
    // The token key files too: check-config says whether `serve` would start.
    if (auto tokens = server::load_token_verifier(cfg->server); !tokens) {
      std::fprintf(stderr, "herald: %s\n", tokens.error().c_str());
      g_exit_code = 2;
      return;
    }
    std::fputs(server::describe(*cfg).c_str(), stdout);
    g_exit_code = 0;
  });
}

int exit_code() { return g_exit_code; }

}  // namespace herald::app
