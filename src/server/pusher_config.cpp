#include "server/pusher_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

namespace herald::server {
namespace {

std::string line_of(const YAML::Node& n) { return std::to_string(n.Mark().line + 1); }

using Setter = std::function<void(const YAML::Node&, PusherAppOptions&)>;

const std::map<std::string, Setter>& app_setters() {
  static const std::map<std::string, Setter> setters = {
      {"id", [](const YAML::Node& n, PusherAppOptions& a) { a.id = n.as<std::string>(); }},
      {"key", [](const YAML::Node& n, PusherAppOptions& a) { a.key = n.as<std::string>(); }},
      {"secret", [](const YAML::Node& n, PusherAppOptions& a) { a.secret = n.as<std::string>(); }},
      {"namespace",
       [](const YAML::Node& n, PusherAppOptions& a) { a.channel_namespace = n.as<std::string>(); }},
      {"client_events",
       [](const YAML::Node& n, PusherAppOptions& a) { a.client_events = n.as<bool>(); }},
      {"max_presence_members",
       [](const YAML::Node& n, PusherAppOptions& a) { a.max_presence_members = n.as<size_t>(); }},
      {"max_event_size",
       [](const YAML::Node& n, PusherAppOptions& a) { a.max_event_size = n.as<size_t>(); }},
      {"client_event_rate",
       [](const YAML::Node& n, PusherAppOptions& a) { a.client_event_rate = n.as<double>(); }},
      {"activity_timeout",
       [](const YAML::Node& n, PusherAppOptions& a) { a.activity_timeout_s = n.as<uint32_t>(); }},
      {"allowed_origins",
       [](const YAML::Node& n, PusherAppOptions& a) {
         a.allowed_origins = n.as<std::vector<std::string>>();
       }},
      {"history", [](const YAML::Node& n, PusherAppOptions& a) { a.history = n.as<size_t>(); }},
  };
  return setters;
}

using HookSetter = std::function<void(const YAML::Node&, PusherWebhookOptions&)>;

const std::map<std::string, HookSetter>& hook_setters() {
  static const std::map<std::string, HookSetter> setters = {
      {"url", [](const YAML::Node& n, PusherWebhookOptions& w) { w.url = n.as<std::string>(); }},
      {"events",
       [](const YAML::Node& n, PusherWebhookOptions& w) {
         w.events = n.as<std::vector<std::string>>();
       }},
      {"batch_ms",
       [](const YAML::Node& n, PusherWebhookOptions& w) { w.batch_ms = n.as<uint32_t>(); }},
      {"max_attempts",
       [](const YAML::Node& n, PusherWebhookOptions& w) { w.max_attempts = n.as<uint32_t>(); }},
      {"max_queued",
       [](const YAML::Node& n, PusherWebhookOptions& w) { w.max_queued = n.as<size_t>(); }},
      {"timeout_ms",
       [](const YAML::Node& n, PusherWebhookOptions& w) { w.timeout_ms = n.as<uint32_t>(); }},
  };
  return setters;
}

// pusher.apps[].webhooks: a list of {url, events?, batch_ms?, max_attempts?, max_queued?,
// timeout_ms?}.
Result<Ok> load_webhooks(const YAML::Node& node, PusherAppOptions& app) {
  if (!node.IsSequence()) {
    return Error{"line " + line_of(node) + ": pusher app 'webhooks' must be a list of {url, ...}"};
  }
  for (const YAML::Node& item : node) {
    if (!item.IsMap()) {
      return Error{"line " + line_of(item) + ": each webhook is a mapping with a url"};
    }
    PusherWebhookOptions hook;
    for (const auto& field : item) {
      std::string name = field.first.as<std::string>();
      auto it = hook_setters().find(name);
      if (it == hook_setters().end()) {
        return Error{"line " + line_of(field.first) + ": webhook: unknown key '" + name + "'"};
      }
      try {
        it->second(field.second, hook);
      } catch (const YAML::Exception& e) {
        return Error{"line " + line_of(field.second) + ": webhook '" + name + "': " + e.msg};
      }
    }
    if (hook.url.empty()) {
      return Error{"line " + line_of(item) + ": a webhook needs a url"};
    }
    app.webhooks.push_back(std::move(hook));
  }
  return Ok{};
}

}  // namespace

Result<Ok> load_pusher_section(const YAML::Node& node, std::vector<PusherAppOptions>& apps,
                               std::string& webhook_tls_ca) {
  if (!node.IsMap()) {
    return Error{"line " + line_of(node) + ": 'pusher' must be a mapping with 'apps'"};
  }
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (key == "webhook_tls_ca") {
      try {
        webhook_tls_ca = kv.second.as<std::string>();
      } catch (const YAML::Exception& e) {
        return Error{"line " + line_of(kv.second) + ": pusher.webhook_tls_ca: " + e.msg};
      }
      continue;
    }
    if (key != "apps") {
      return Error{"line " + line_of(kv.first) + ": pusher: unknown key '" + key + "'"};
    }
    if (!kv.second.IsSequence()) {
      return Error{"line " + line_of(kv.second) + ": pusher.apps must be a list of apps"};
    }
    for (const YAML::Node& item : kv.second) {
      if (!item.IsMap()) {
        return Error{"line " + line_of(item) + ": each pusher app is a mapping (id, key, secret)"};
      }
      PusherAppOptions app;
      for (const auto& field : item) {
        std::string name = field.first.as<std::string>();
        if (name == "webhooks") {
          if (auto r = load_webhooks(field.second, app); !r) {
            return r;
          }
          continue;
        }
        auto it = app_setters().find(name);
        if (it == app_setters().end()) {
          return Error{"line " + line_of(field.first) + ": pusher app: unknown key '" + name + "'"};
        }
        try {
          it->second(field.second, app);
        } catch (const YAML::Exception& e) {
          return Error{"line " + line_of(field.second) + ": pusher app '" + name + "': " + e.msg};
        }
      }
      apps.push_back(std::move(app));
    }
  }
  return Ok{};
}

Result<PusherAppOptions> parse_pusher_app_flag(const std::string& flag) {
  size_t a = flag.find(':');
  size_t b = a == std::string::npos ? a : flag.find(':', a + 1);
  if (b == std::string::npos) {
    return Error{"--pusher-app: expected ID:KEY:SECRET, got '" + flag.substr(0, 40) + "'"};
  }
  PusherAppOptions app;
  app.id = flag.substr(0, a);
  app.key = flag.substr(a + 1, b - a - 1);
  app.secret = flag.substr(b + 1);
  return app;
}

std::string describe_pusher(const std::vector<PusherAppOptions>& apps,
                            const std::string& webhook_tls_ca) {
  if (apps.empty() && webhook_tls_ca.empty()) {
    return {};
  }
  std::string out = "pusher:\n";
  if (!webhook_tls_ca.empty()) {
    out += "  webhook_tls_ca: \"" + webhook_tls_ca + "\"\n";
  }
  out += "  apps:\n";
  for (const PusherAppOptions& a : apps) {
    out += "    - id: \"" + a.id + "\"\n";
    out += "      key: \"" + a.key + "\"\n";
    out += "      secret: \"(set)\"\n";
    if (!a.channel_namespace.empty()) {
      out += "      namespace: \"" + a.channel_namespace + "\"\n";
    }
    out += std::string("      client_events: ") + (a.client_events ? "true" : "false") + "\n";
    out += "      max_presence_members: " + std::to_string(a.max_presence_members) + "\n";
    out += "      max_event_size: " + std::to_string(a.max_event_size) + "\n";
    out += "      client_event_rate: " + std::to_string(a.client_event_rate) + "\n";
    out += "      activity_timeout: " + std::to_string(a.activity_timeout_s) + "\n";
    if (!a.allowed_origins.empty()) {
      out += "      allowed_origins: [";
      for (size_t i = 0; i < a.allowed_origins.size(); ++i) {
        out += (i ? ", \"" : "\"") + a.allowed_origins[i] + "\"";
      }
      out += "]\n";
    }
    if (a.history != 0) {
      out += "      history: " + std::to_string(a.history) + "\n";
    }
    if (!a.webhooks.empty()) {
      out += "      webhooks:\n";
      for (const PusherWebhookOptions& w : a.webhooks) {
        out += "        - url: \"" + w.url + "\"\n";
        if (!w.events.empty()) {
          out += "          events: [";
          for (size_t i = 0; i < w.events.size(); ++i) {
            out += (i ? ", " : "") + w.events[i];
          }
          out += "]\n";
        }
        out += "          batch_ms: " + std::to_string(w.batch_ms) + "\n";
        out += "          max_attempts: " + std::to_string(w.max_attempts) + "\n";
        out += "          max_queued: " + std::to_string(w.max_queued) + "\n";
        out += "          timeout_ms: " + std::to_string(w.timeout_ms) + "\n";
      }
    }
  }
  return out;
}

}  // namespace herald::server
