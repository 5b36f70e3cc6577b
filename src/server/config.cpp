#include "server/config.h"

#include "auth/origin.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <utility>
#include <string_view>
#include <vector>

#include "broker/redis_url.h"
#include "pusher/apps.h"
#include "server/pusher_config.h"
#include "server/log.h"

namespace herald::server {
namespace {

using Setter = std::function<void(const YAML::Node&, ServeConfig&)>;

uint32_t seconds_to_ms(const YAML::Node& n) {
  double s = n.as<double>();
  if (!(s >= 0) || s > 86400 * 7) {
    throw YAML::Exception(n.Mark(), "duration must be between 0 and 604800 seconds");
  }
  return static_cast<uint32_t>(std::llround(s * 1000));
}

size_t count_or_off(const YAML::Node& n) {
  auto v = n.as<long long>();
  if (v < 0) {
    throw YAML::Exception(n.Mark(), "must be 0 (off) or a positive number");
  }
  return static_cast<size_t>(v);
}

double rate_or_off(const YAML::Node& n) {
  double v = n.as<double>();
  if (!(v >= 0) || v > 1e9) {
    throw YAML::Exception(n.Mark(), "must be 0 (off) or a positive rate a second");
  }
  return v;
}

size_t positive_size(const YAML::Node& n) {
  auto v = n.as<long long>();
  if (v <= 0) {
    throw YAML::Exception(n.Mark(), "must be a positive number");
  }
  return static_cast<size_t>(v);
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"listen", [](const YAML::Node& n, ServeConfig& c) { c.server.listen = n.as<std::string>(); }},
      {"tcp_listen",
       [](const YAML::Node& n, ServeConfig& c) { c.server.tcp_listen = n.as<std::string>(); }},
      {"threads", [](const YAML::Node& n, ServeConfig& c) { c.server.threads = n.as<int>(); }},
      {"echo", [](const YAML::Node& n, ServeConfig& c) { c.echo = n.as<bool>(); }},
      {"web_pages", [](const YAML::Node& n, ServeConfig& c) { c.web_pages = n.as<bool>(); }},
      {"log_level", [](const YAML::Node& n, ServeConfig& c) { c.log_level = n.as<std::string>(); }},
      {"log_format",
       [](const YAML::Node& n, ServeConfig& c) { c.log_format = n.as<std::string>(); }},
      {"log_rate", [](const YAML::Node& n, ServeConfig& c) { c.server.log_rate = rate_or_off(n); }},
      {"latency_metrics",
       [](const YAML::Node& n, ServeConfig& c) { c.server.latency_metrics = n.as<bool>(); }},
      {"max_message_size",
       [](const YAML::Node& n, ServeConfig& c) { c.server.max_message_size = positive_size(n); }},
      {"max_output_bytes",
       [](const YAML::Node& n, ServeConfig& c) { c.server.max_output_bytes = positive_size(n); }},
      {"max_connections",
       [](const YAML::Node& n, ServeConfig& c) { c.server.max_connections = positive_size(n); }},
      {"max_connections_per_ip",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.max_connections_per_ip = count_or_off(n);
       }},
      {"connection_rate_per_ip",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.connection_rate_per_ip = rate_or_off(n);
       }},
      {"max_connections_per_user",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.max_connections_per_user = count_or_off(n);
       }},
      {"command_rate",
       [](const YAML::Node& n, ServeConfig& c) { c.server.command_rate = rate_or_off(n); }},
      {"publish_rate_per_user",
       [](const YAML::Node& n, ServeConfig& c) { c.server.publish_rate_per_user = rate_or_off(n); }},
      {"api_rate", [](const YAML::Node& n, ServeConfig& c) { c.server.api_rate = rate_or_off(n); }},
      {"head_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.head_timeout_ms = seconds_to_ms(n); }},
      {"idle_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.idle_timeout_ms = seconds_to_ms(n); }},
      {"ping_interval",
       [](const YAML::Node& n, ServeConfig& c) { c.server.ping_interval_ms = seconds_to_ms(n); }},
      {"pong_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.pong_timeout_ms = seconds_to_ms(n); }},
      {"close_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.close_timeout_ms = seconds_to_ms(n); }},
      {"drain_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.drain_timeout_ms = seconds_to_ms(n); }},
      {"stall_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.stall_timeout_ms = seconds_to_ms(n); }},
      {"poll_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.poll_timeout_ms = seconds_to_ms(n); }},
      {"session_timeout",
       [](const YAML::Node& n, ServeConfig& c) { c.server.session_timeout_ms = seconds_to_ms(n); }},
      {"permessage_deflate",
       [](const YAML::Node& n, ServeConfig& c) { c.server.permessage_deflate = n.as<bool>(); }},
      {"api_key", [](const YAML::Node& n, ServeConfig& c) { c.server.api_key = n.as<std::string>(); }},
      {"allowed_origins",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.allowed_origins = n.as<std::vector<std::string>>();
       }},
      {"token_hmac_secret",
       [](const YAML::Node& n, ServeConfig& c) { c.server.token_hmac_secret = n.as<std::string>(); }},
      {"token_public_key",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.token_public_key = n.as<std::string>();
       }},
      {"token_jwks_file",
       [](const YAML::Node& n, ServeConfig& c) { c.server.token_jwks_file = n.as<std::string>(); }},
      {"token_audience",
       [](const YAML::Node& n, ServeConfig& c) { c.server.token_audience = n.as<std::string>(); }},
      {"token_issuer",
       [](const YAML::Node& n, ServeConfig& c) { c.server.token_issuer = n.as<std::string>(); }},
      {"allow_anonymous",
       [](const YAML::Node& n, ServeConfig& c) { c.server.allow_anonymous = n.as<bool>(); }},
      {"broker", [](const YAML::Node& n, ServeConfig& c) { c.server.broker = n.as<std::string>(); }},
      {"redis_url",
       [](const YAML::Node& n, ServeConfig& c) {
         // One URL, or several (a list, or separated by spaces): independent Redis shards.
         if (n.IsSequence()) {
           c.server.redis_url.clear();
           for (const auto& url : n.as<std::vector<std::string>>()) {
             c.server.redis_url += (c.server.redis_url.empty() ? "" : " ") + url;
           }
         } else {
           c.server.redis_url = n.as<std::string>();
         }
       }},
      {"redis_prefix",
       [](const YAML::Node& n, ServeConfig& c) { c.server.redis_prefix = n.as<std::string>(); }},
      {"redis_cluster",
       [](const YAML::Node& n, ServeConfig& c) { c.server.redis_cluster = n.as<bool>(); }},
      {"redis_tls_ca",
       [](const YAML::Node& n, ServeConfig& c) { c.server.redis_tls_ca = n.as<std::string>(); }},
      {"redis_tls_cert",
       [](const YAML::Node& n, ServeConfig& c) { c.server.redis_tls_cert = n.as<std::string>(); }},
      {"redis_tls_key",
       [](const YAML::Node& n, ServeConfig& c) { c.server.redis_tls_key = n.as<std::string>(); }},
      {"redis_presence_lease",
       [](const YAML::Node& n, ServeConfig& c) {
         c.server.redis_presence_lease_ms = seconds_to_ms(n);
       }},
      {"data_dir",
       [](const YAML::Node& n, ServeConfig& c) { c.server.data_dir = n.as<std::string>(); }},
      {"max_subscriptions",
       [](const YAML::Node& n, ServeConfig& c) { c.server.max_subscriptions = positive_size(n); }},
      {"deflate_min_size",
       [](const YAML::Node& n, ServeConfig& c) { c.server.deflate_min_size = n.as<size_t>(); }},
      {"tls_cert",
       [](const YAML::Node& n, ServeConfig& c) { c.server.tls_cert = n.as<std::string>(); }},
      {"tls_key",
       [](const YAML::Node& n, ServeConfig& c) { c.server.tls_key = n.as<std::string>(); }},
  };
  return kSetters;
}

using NamespaceSetter = std::function<void(const YAML::Node&, NamespaceOptions&)>;

// An Access value among `allowed` ("anyone", "authenticated", "subscribers", "token", "none").
Access access(const YAML::Node& n, std::initializer_list<Access> allowed) {
  static constexpr std::pair<std::string_view, Access> kNames[] = {
      {"anyone", Access::kAnyone},           {"authenticated", Access::kAuthenticated},
      {"subscribers", Access::kSubscribers}, {"token", Access::kToken},
      {"none", Access::kNone},
  };
  std::string text = n.as<std::string>();
  std::string expected;
  for (Access a : allowed) {
    for (const auto& [name, value] : kNames) {
      if (value != a) {
        continue;
      }
      if (name == text) {
        return a;
      }
      expected += (expected.empty() ? "" : " | ") + std::string(name);
    }
  }
  throw YAML::Exception(n.Mark(), "'" + text + "' is not one of " + expected);
}

constexpr std::initializer_list<Access> kReadAccess = {Access::kAnyone, Access::kAuthenticated,
                                                       Access::kSubscribers, Access::kNone};

const std::map<std::string, NamespaceSetter>& namespace_setters() {
  static const std::map<std::string, NamespaceSetter> kSetters = {
      {"history_size",
       [](const YAML::Node& n, NamespaceOptions& o) { o.history_size = n.as<uint64_t>(); }},
      {"history_ttl",
       [](const YAML::Node& n, NamespaceOptions& o) { o.history_ttl_s = seconds_to_ms(n) / 1000; }},
      {"durable", [](const YAML::Node& n, NamespaceOptions& o) { o.durable = n.as<bool>(); }},
      {"presence", [](const YAML::Node& n, NamespaceOptions& o) { o.presence = n.as<bool>(); }},
      {"join_leave", [](const YAML::Node& n, NamespaceOptions& o) { o.join_leave = n.as<bool>(); }},
      // Before `publish` existed: true is `publish: anyone`, false is `publish: none`.
      {"client_publish",
       [](const YAML::Node& n, NamespaceOptions& o) {
         o.publish = n.as<bool>() ? Access::kAnyone : Access::kNone;
       }},
      {"subscribe",
       [](const YAML::Node& n, NamespaceOptions& o) {
         o.subscribe = access(n, {Access::kAnyone, Access::kAuthenticated, Access::kToken});
       }},
      {"publish",
       [](const YAML::Node& n, NamespaceOptions& o) { o.publish = access(n, kReadAccess); }},
      {"see_presence",
       [](const YAML::Node& n, NamespaceOptions& o) { o.see_presence = access(n, kReadAccess); }},
      {"read_history",
       [](const YAML::Node& n, NamespaceOptions& o) { o.read_history = access(n, kReadAccess); }},
      {"max_subscribers",
       [](const YAML::Node& n, NamespaceOptions& o) { o.max_subscribers = n.as<size_t>(); }},
  };
  return kSetters;
}

std::string where(const std::string& path, const YAML::Node& n) {
  return path + ":" + std::to_string(n.Mark().line + 1) + ": ";
}

// Reads one namespace's mapping over `options` (which holds what it inherits).
Result<Ok> load_namespace(const std::string& path, const std::string& name, const YAML::Node& node,
                          NamespaceOptions& options) {
  if (node.IsNull()) {
    return Ok{};  // "chat:" alone: the namespace exists with the default options
  }
  if (!node.IsMap()) {
    return Error{where(path, node) + "namespace '" + name + "' must be a mapping of key: value"};
  }
  if (node["client_publish"] && node["publish"]) {
    return Error{where(path, node) + "namespace '" + name +
                 "': 'client_publish' and 'publish' say the same thing; keep 'publish'"};
  }
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    auto it = namespace_setters().find(key);
    if (it == namespace_setters().end()) {
      return Error{where(path, kv.first) + "namespace '" + name + "': unknown key '" + key + "'"};
    }
    try {
      it->second(kv.second, options);
    } catch (const YAML::Exception& e) {
      return Error{where(path, kv.second) + "namespace '" + name + "': '" + key + "': " + e.msg};
    }
  }
  return Ok{};
}

// A namespace name is what may stand before the ':' of a channel name.
bool valid_namespace_name(const std::string& name) {
  if (name.empty() || name.size() > 254) {
    return false;
  }
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              std::string_view("_-.@/=,!~").find(ch) != std::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

// default_namespace first, then namespaces (which inherit from it), whatever their file order.
Result<Ok> load_namespaces(const std::string& path, const std::optional<YAML::Node>& default_node,
                           const std::optional<YAML::Node>& named_node, ServeConfig& config) {
  if (default_node) {
    if (auto r = load_namespace(path, "default", *default_node, config.server.default_namespace);
        !r) {
      return r;
    }
  }
  if (!named_node || named_node->IsNull()) {
    return Ok{};
  }
  if (!named_node->IsMap()) {
    return Error{where(path, *named_node) + "'namespaces' must map names to their options"};
  }
  for (const auto& kv : *named_node) {
    std::string name = kv.first.as<std::string>();
    if (!valid_namespace_name(name)) {
      return Error{where(path, kv.first) + "namespace name '" + name +
                   "' must be 1-254 bytes of A-Z a-z 0-9 _-.@/=,!~ (no ':')"};
    }
    NamespaceOptions options = config.server.default_namespace;
    if (auto r = load_namespace(path, name, kv.second, options); !r) {
      return r;
    }
    config.server.namespaces[name] = options;
  }
  return Ok{};
}

}  // namespace

Result<Ok> load_config_file(const std::string& path, ServeConfig& config) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) {
      return Ok{};  // an empty file means "all defaults"
    }
    if (!root.IsMap()) {
      return Error{path + ": the top level must be a mapping of key: value"};
    }
    std::optional<YAML::Node> default_namespace;
    std::optional<YAML::Node> namespaces;
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key == "default_namespace") {
        default_namespace = kv.second;
        continue;
      }
      if (key == "namespaces") {
        namespaces = kv.second;
        continue;
      }
      if (key == "pusher") {
        if (auto r = load_pusher_section(kv.second, config.server.pusher_apps,
                                         config.server.pusher_webhook_tls_ca); !r) {
          return Error{path + ": " + r.error()};
        }
        continue;
      }
      auto it = setters().find(key);
      if (it == setters().end()) {
        return Error{path + ":" + std::to_string(kv.first.Mark().line + 1) + ": unknown key '" +
                     key + "'"};
      }
      try {
        it->second(kv.second, config);
      } catch (const YAML::Exception& e) {
        return Error{path + ":" + std::to_string(kv.second.Mark().line + 1) + ": '" + key +
                     "': " + e.msg};
      }
    }
    if (auto r = load_namespaces(path, default_namespace, namespaces, config); !r) {
      return r;
    }
  } catch (const YAML::Exception& e) {
    return Error{path + ": " + e.what()};
  }
  return Ok{};
}

namespace {

std::string_view access_name(Access a) {
  switch (a) {
    case Access::kAnyone:
      return "anyone";
    case Access::kAuthenticated:
      return "authenticated";
    case Access::kSubscribers:
      return "subscribers";
    case Access::kToken:
      return "token";
    case Access::kNone:
      return "none";
  }
  return "none";
}

void describe_namespace(std::string& out, const NamespaceOptions& ns, const char* indent) {
  out += std::string(indent) + "history_size: " + std::to_string(ns.history_size) + "\n";
  out += std::string(indent) + "history_ttl: " + std::to_string(ns.history_ttl_s) + "\n";
  out += std::string(indent) + "durable: " + (ns.durable ? "true" : "false") + "\n";
  out += std::string(indent) + "presence: " + (ns.presence ? "true" : "false") + "\n";
  out += std::string(indent) + "join_leave: " + (ns.join_leave ? "true" : "false") + "\n";
  out += std::string(indent) + "max_subscribers: " + std::to_string(ns.max_subscribers) + "\n";
  out += std::string(indent) + "subscribe: " + std::string(access_name(ns.subscribe)) + "\n";
  out += std::string(indent) + "publish: " + std::string(access_name(ns.publish)) + "\n";
  out += std::string(indent) + "see_presence: " + std::string(access_name(ns.see_presence)) + "\n";
  out += std::string(indent) + "read_history: " + std::string(access_name(ns.read_history)) + "\n";
}

std::string seconds(uint32_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", ms / 1000.0);
  return buf;
}

// A rate as YAML reads it back ("0", "2.5").
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// A YAML double-quoted scalar.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string describe(const ServeConfig& config) {
  const ServerOptions& s = config.server;
  std::string out;
  auto line = [&out](const char* key, const std::string& value) {
    out += std::string(key) + ": " + value + "\n";
  };
  line("listen", quoted(s.listen));
  line("tcp_listen", quoted(s.tcp_listen));
  line("threads", std::to_string(s.threads));
  line("echo", config.echo ? "true" : "false");
  line("web_pages", config.web_pages ? "true" : "false");
  line("log_level", quoted(config.log_level));
  line("log_format", quoted(config.log_format));
  line("log_rate", number(s.log_rate));
  line("latency_metrics", s.latency_metrics ? "true" : "false");
  line("max_message_size", std::to_string(s.max_message_size));
  line("max_output_bytes", std::to_string(s.max_output_bytes));
  line("max_connections", std::to_string(s.max_connections));
  line("max_connections_per_ip", std::to_string(s.max_connections_per_ip));
  line("connection_rate_per_ip", number(s.connection_rate_per_ip));
  line("max_connections_per_user", std::to_string(s.max_connections_per_user));
  line("command_rate", number(s.command_rate));
  line("publish_rate_per_user", number(s.publish_rate_per_user));
  line("api_rate", number(s.api_rate));
  line("head_timeout", seconds(s.head_timeout_ms));
  line("idle_timeout", seconds(s.idle_timeout_ms));
  line("ping_interval", seconds(s.ping_interval_ms));
  line("pong_timeout", seconds(s.pong_timeout_ms));
  line("close_timeout", seconds(s.close_timeout_ms));
  line("drain_timeout", seconds(s.drain_timeout_ms));
  line("stall_timeout", seconds(s.stall_timeout_ms));
  line("poll_timeout", seconds(s.poll_timeout_ms));
  line("session_timeout", seconds(s.session_timeout_ms));
  line("permessage_deflate", s.permessage_deflate ? "true" : "false");
  line("deflate_min_size", std::to_string(s.deflate_min_size));
  line("broker", quoted(s.broker));
  bool secret = false;
  std::string shown;
  for (const std::string& one : broker::split_redis_urls(s.redis_url)) {
    auto url = broker::parse_redis_url(one);
    secret = secret || (url.ok() && !url->password.empty());
    shown += std::string(shown.empty() ? "" : " ") +
             (url.ok() && url->tls ? "rediss://" : "redis://") +
             (url.ok() ? url->address() + "/" + std::to_string(url->db) : std::string("?"));
  }
  if (secret) {
    // The password is a secret: said to be set, not printed (and so not read back).
    out += "# redis_url: (set, with a password) " + shown + "\n";
  } else {
    line("redis_url", quoted(s.redis_url));
  }
  line("redis_prefix", quoted(s.redis_prefix));
  line("redis_presence_lease", seconds(s.redis_presence_lease_ms));
  line("redis_cluster", s.redis_cluster ? "true" : "false");
  line("redis_tls_ca", quoted(s.redis_tls_ca));
  line("redis_tls_cert", quoted(s.redis_tls_cert));
  line("redis_tls_key", quoted(s.redis_tls_key));
  line("data_dir", quoted(s.data_dir));
  line("max_subscriptions", std::to_string(s.max_subscriptions));
  line("allow_anonymous", s.allow_anonymous ? "true" : "false");
  {
    std::string origins = "[";
    for (const std::string& o : s.allowed_origins) {
      origins += (origins.size() > 1 ? ", " : "") + quoted(o);
    }
    line("allowed_origins", origins + "]");
  }
  line("token_public_key", quoted(s.token_public_key));
  line("token_jwks_file", quoted(s.token_jwks_file));
  line("token_audience", quoted(s.token_audience));
  line("token_issuer", quoted(s.token_issuer));
  line("tls_cert", quoted(s.tls_cert));
  line("tls_key", quoted(s.tls_key));
  out += std::string("# api_key: ") + (s.api_key.empty() ? "(none: loopback only)" : "(set)") +
         "\n";
  out += std::string("# token_hmac_secret: ") + (s.token_hmac_secret.empty() ? "(none)" : "(set)") +
         "\n";
  out += "default_namespace:\n";
  describe_namespace(out, s.default_namespace, "  ");
  if (!s.namespaces.empty()) {
    out += "namespaces:\n";
    for (const auto& [name, ns] : s.namespaces) {
      out += "  " + name + ":\n";
      describe_namespace(out, ns, "    ");
    }
  }
  out += describe_pusher(s.pusher_apps, s.pusher_webhook_tls_ca);
  return out;
}

Result<Ok> validate(const ServeConfig& config) {
  const ServerOptions& s = config.server;
  if (auto r = pusher::Apps::validate(s.pusher_apps); !r) {
    return r;
  }
  for (const std::string& o : s.allowed_origins) {
    std::string why;
    if (!auth::OriginPolicy::valid_pattern(o, &why)) {
      return Error{"allowed_origins: " + why};
    }
  }
  if (auto level = parse_log_level(config.log_level); !level) {
    return Error{level.error()};
  }
  if (auto format = parse_log_format(config.log_format); !format) {
    return Error{format.error()};
  }
  if (s.threads < 0 || s.threads > 1024) {
    return Error{"threads must be between 0 (one per core) and 1024"};
  }
  if (s.max_message_size < 125) {
    return Error{"max_message_size must be at least 125 bytes"};
  }
  if (s.max_output_bytes < s.max_message_size) {
    return Error{"max_output_bytes must be at least max_message_size, or no message fits"};
  }
  if (s.ping_interval_ms == 0 || s.pong_timeout_ms == 0 || s.head_timeout_ms == 0 ||
      s.poll_timeout_ms == 0 || s.session_timeout_ms == 0) {
    return Error{"head_timeout, ping_interval, pong_timeout, poll_timeout and session_timeout "
                 "must be above 0"};
  }
  if (!s.token_hmac_secret.empty() && s.token_hmac_secret.size() < 32) {
    return Error{"token_hmac_secret must be at least 32 bytes (RFC 7518 3.2); `openssl rand -hex 32` "
                 "makes one"};
  }
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return Error{"tls_cert and tls_key go together: set both, or neither for plain TCP"};
  }
  if (s.broker != "memory" && s.broker != "redis") {
    return Error{"broker must be memory or redis, not '" + s.broker + "'"};
  }
  if (s.broker == "redis") {
    if (s.redis_url.empty()) {
      return Error{"broker is redis but no redis_url is set (redis://host:port)"};
    }
    bool tls = false;
    for (const std::string& one : broker::split_redis_urls(s.redis_url)) {
      auto url = broker::parse_redis_url(one);
      if (!url) {
        return Error{url.error()};
      }
      tls = tls || url->tls;
    }
    // A TLS setting with only redis:// URLs would look like TLS while sending plaintext.
    if (!tls && !(s.redis_tls_ca.empty() && s.redis_tls_cert.empty())) {
      return Error{"redis_tls_ca/redis_tls_cert are set but no redis_url is rediss:// (TLS)"};
    }
  }
  if (!s.pusher_webhook_tls_ca.empty()) {
    // Like redis_tls_ca: a CA that nothing uses would look like TLS where there is none.
    bool https = false;
    for (const PusherAppOptions& app : s.pusher_apps) {
      for (const PusherWebhookOptions& hook : app.webhooks) {
        https = https || hook.url.starts_with("https://");
      }
    }
    if (!https) {
      return Error{"pusher.webhook_tls_ca is set but no pusher webhook url is https://"};
    }
  }
  if (s.redis_tls_cert.empty() != s.redis_tls_key.empty()) {
    return Error{"redis_tls_cert and redis_tls_key go together: set both or neither"};
  }
  if (s.redis_presence_lease_ms < 1'000) {
    return Error{"redis_presence_lease must be at least 1 second"};
  }
  if (s.redis_prefix.empty() || s.redis_prefix.size() > 64 ||
      s.redis_prefix.find_first_of("{} \r\n") != std::string::npos) {
    return Error{"redis_prefix must be 1-64 bytes without braces, spaces or line breaks"};
  }
  if (!s.allow_anonymous && s.token_hmac_secret.empty() && s.token_public_key.empty() &&
      s.token_jwks_file.empty()) {
    return Error{"allow_anonymous is false but no token key is set (token_hmac_secret, "
                 "token_public_key or token_jwks_file): nobody could connect"};
  }
  return Ok{};
}

}  // namespace herald::server
