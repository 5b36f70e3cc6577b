#include "pusher/apps.h"

#include <algorithm>
#include <set>

#include "pusher/http_post.h"
#include "pusher/webhook_events.h"

namespace herald::pusher {
namespace {

bool valid_namespace(std::string_view ns) {
  if (ns.empty() || ns.size() > 50) {
    return false;
  }
  for (char c : ns) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Keys and ids appear in URL paths: keep them to a URL-safe alphabet.
bool valid_token(std::string_view s) {
  if (s.empty() || s.size() > 100) {
    return false;
  }
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace

Apps::Apps(const std::vector<PusherAppOptions>& apps) {
  for (const PusherAppOptions& options : apps) {
    auto app = std::make_unique<App>();
    app->options = options;
    app->ns = namespace_of(options);
    app->ws_path = "/app/" + options.key;
    app->origins = auth::OriginPolicy(options.allowed_origins);
    for (const PusherWebhookOptions& w : options.webhooks) {
      uint8_t mask = 0;
      std::string bad;
      if (webhook_mask(w.events, &mask, &bad)) {
        app->webhook_kinds |= mask;
      }
    }
    by_key_[options.key] = app.get();
    by_id_[options.id] = app.get();
    apps_.push_back(std::move(app));
  }
}

const App* Apps::by_key(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

const App* Apps::by_id(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

NamespaceOptions Apps::namespace_options(const PusherAppOptions& app) {
  NamespaceOptions ns;
  ns.history_size = std::max<uint64_t>(1, app.history);
  ns.durable = false;
  ns.presence = true;
  ns.join_leave = false;
  ns.subscribe = Access::kToken;
  ns.publish = Access::kNone;
  ns.see_presence = Access::kSubscribers;
  ns.read_history = Access::kSubscribers;
  return ns;
}

std::string Apps::namespace_of(const PusherAppOptions& app) {
  return app.channel_namespace.empty() ? "pusher-" + app.id : app.channel_namespace;
}

Result<Ok> Apps::validate(const std::vector<PusherAppOptions>& apps) {
  std::set<std::string> ids;
  std::set<std::string> keys;
  std::set<std::string> namespaces;
  for (size_t i = 0; i < apps.size(); ++i) {
    const PusherAppOptions& a = apps[i];
    std::string where = "pusher.apps[" + std::to_string(i) + "]: ";
    if (!valid_token(a.id)) {
      return Error{where + "id must be 1-100 bytes of [A-Za-z0-9_.-]"};
    }
    if (!valid_token(a.key)) {
      return Error{where + "key must be 1-100 bytes of [A-Za-z0-9_.-]"};
    }
    if (a.secret.size() < 8) {
      return Error{where + "secret must be at least 8 bytes"};
    }
    if (!ids.insert(a.id).second) {
      return Error{where + "id '" + a.id + "' is used twice"};
    }
    if (!keys.insert(a.key).second) {
      return Error{where + "key '" + a.key + "' is used twice"};
    }
    std::string ns = namespace_of(a);
    if (!valid_namespace(ns)) {
      return Error{where + "namespace '" + ns + "' must be 1-50 bytes of [A-Za-z0-9_.-]"};
    }
    if (!namespaces.insert(ns).second) {
      return Error{where + "namespace '" + ns + "' is used by two apps"};
    }
    if (a.max_event_size == 0 || a.max_presence_members == 0 || a.activity_timeout_s == 0) {
      return Error{where + "max_event_size, max_presence_members and activity_timeout must be > 0"};
    }
    for (size_t w = 0; w < a.webhooks.size(); ++w) {
      const PusherWebhookOptions& hook = a.webhooks[w];
      std::string at = where + "webhooks[" + std::to_string(w) + "]: ";
      if (auto url = parse_http_url(hook.url); !url) {
        return Error{at + url.error()};
      }
      uint8_t mask = 0;
      std::string bad;
      if (!webhook_mask(hook.events, &mask, &bad)) {
        return Error{at + "unknown event '" + bad +
                     "' (channel_occupied, channel_vacated, member_added, member_removed, "
                     "client_event)"};
      }
      if (hook.max_attempts == 0 || hook.max_queued == 0 || hook.timeout_ms == 0 ||
          hook.batch_ms > 60'000) {
        return Error{at + "max_attempts, max_queued and timeout must be > 0, batch_ms <= 60000"};
      }
    }
    if (a.history > 100'000) {
      return Error{where + "history must be at most 100000 publications per channel"};
    }
    for (const std::string& o : a.allowed_origins) {
      std::string why;
      if (!auth::OriginPolicy::valid_pattern(o, &why)) {
        return Error{where + "allowed_origins: " + why};
      }
    }
  }
  return Ok{};
}

}  // namespace herald::pusher
