#pragma once
// Apps: the Pusher applications a server serves (ServerOptions::pusher_apps), looked up by key
// (WebSocket URL) and by id (REST path), with what follows from each one's options: its Herald
// namespace, the WebSocket path string the connections keep, its Origin policy. Built once at
// start and read-only afterwards, shared by every loop. Thread: any.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/origin.h"
#include "herald/namespace_options.h"
#include "herald/pusher_app.h"
#include "herald/result.h"

namespace herald::pusher {

struct App {
  PusherAppOptions options;
  std::string ns;       // the Herald namespace of its channels
  std::string ws_path;  // "/app/<key>": lives as long as the server (WebSocketSession::path)
  auth::OriginPolicy origins;
  uint8_t webhook_kinds = 0;  // the WebhookKinds any of its webhooks wants (webhook_events.h)
};

class Apps {
 public:
  Apps() = default;
  explicit Apps(const std::vector<PusherAppOptions>& apps);

  const App* by_key(std::string_view key) const;
  const App* by_id(std::string_view id) const;
  bool empty() const { return apps_.empty(); }
  const std::vector<std::unique_ptr<App>>& all() const { return apps_; }

  // The options of an app's namespace when the configuration does not name it: Herald clients
  // need a channel token to subscribe and may not publish (a Pusher channel's authorization is
  // the Pusher signature, which they do not have); one publication of history is kept for the
  // cache- channels, or `history` of them for the history extension; nothing is durable (Pusher
  // keeps nothing).
  static NamespaceOptions namespace_options(const PusherAppOptions& app);
  // The namespace of an app ("pusher-<id>" unless set).
  static std::string namespace_of(const PusherAppOptions& app);

  // One line per problem: empty or duplicate id/key, a secret under 8 bytes, a namespace that is
  // not a valid channel namespace, a bad origin pattern, zero limits, a webhook whose url is not
  // http://host[:port]/path or that names an unknown event.
  static Result<Ok> validate(const std::vector<PusherAppOptions>& apps);

 private:
  std::vector<std::unique_ptr<App>> apps_;
  std::map<std::string, const App*, std::less<>> by_key_;
  std::map<std::string, const App*, std::less<>> by_id_;
};

}  // namespace herald::pusher
