#pragma once
// Host: what the Pusher layer needs from the server on one loop (the hub, the loop, the other
// loops' Pusher endpoints), so that src/pusher depends on the hub and the transports but not on
// the server that routes to it. Implemented by server::PusherHost over a LoopContext.
// Thread: the loop's own, except post_to's target runs on its loop.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/server.h"
#include "hub/hub.h"
#include "net/event_loop.h"

namespace herald::pusher {

class Endpoint;
class Webhooks;

class Host {
 public:
  virtual ~Host() = default;
  // Null until the server has made the loop's hub (before any connection arrives).
  virtual hub::Hub& hub() = 0;
  virtual net::EventLoop& loop() = 0;
  virtual size_t max_subscriptions() const = 0;
  // The server's options (ping_interval, session_timeout, max_output_bytes for the HTTP
  // fallbacks).
  virtual const ServerOptions& options() const = 0;
  // A client id from the server's connection id space, for a client that has no connection of
  // its own (an HTTP fallback session).
  virtual uint64_t new_client_id() = 0;
  // Loop i's endpoint. Only for code already running on loop i's thread (a relayed request).
  virtual Endpoint& endpoint_at(int i) = 0;
  virtual int loop_count() const = 0;
  // Runs fn on loop i's thread with that loop's Pusher endpoint.
  virtual void post_to(int i, std::function<void(Endpoint&)> fn) = 0;
  // The server's webhook sender, shared by every loop (null: no app has a webhook).
  virtual Webhooks* webhooks() = 0;
  // With several nodes: asks every other live node `topic` (answered there by
  // answer_node_question, rest_nodes.h); done(their answers) on this loop once all answered or
  // the cluster's timeout passed. With one node, done({}) at once.
  virtual void ask_other_nodes(std::string_view topic, std::string body,
                               std::function<void(std::vector<std::string>)> done) = 0;
};

}  // namespace herald::pusher
