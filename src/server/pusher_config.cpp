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
  };
  return setters;
}

}  // namespace

Result<Ok> load_pusher_section(const YAML::Node& node, std::vector<PusherAppOptions>& apps) {
  if (!node.IsMap()) {
    return Error{"line " + line_of(node) + ": 'pusher' must be a mapping with 'apps'"};
  }
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
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

std::string describe_pusher(const std::vector<PusherAppOptions>& apps) {
  if (apps.empty()) {
    return {};
  }
  std::string out = "pusher:\n  apps:\n";
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
  }
  return out;
}

}  // namespace herald::server
