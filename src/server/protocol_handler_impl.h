#pragma once
// ProtocolHandler, the class behind make_protocol_handler (protocol_handler.h): the Herald
// protocol on one loop, for the WebSocket route and the loop's transport::ProtocolEndpoint.
// Internal to src/server; its members are defined by command group:
// - protocol_handler.cpp: construction, the server API's questions, the WebSocket and transport
//   callbacks, on_text and the dispatch of each command (handle), the helpers all groups use;
// - protocol_connect.cpp: connect, authentication, the per-user count over nodes, token expiry
//   and refresh;
// - protocol_channels.cpp: namespaces and permissions, subscribe/join with recovery, publish,
//   history and presence queries, presence bookkeeping, lost streams.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "herald/websocket.h"
#include "hub/hub.h"
#include "protocol/command_decoder.h"
#include "server/loop_context.h"
#include "server/permissions.h"
#include "server/protocol_session.h"
#include "server/sessions.h"
#include "transport/transport.h"

namespace herald::server {

// One per loop, owned by that loop's server (as its protocol Handler): decodes each frame's (or
// line's) commands, runs them against the loop's hub and answers them; owns the loop's protocol
// sessions. Thread: the loop's own.
class ProtocolHandler final : public Handler,
                              public transport::ProtocolEndpoint,
                              public ProtocolSessions {
 public:
  // Created before the loop's hub exists (Server::start makes the hubs once every loop is
  // there), so the hub is looked up when used.
  explicit ProtocolHandler(LoopContext& ctx);
  ~ProtocolHandler() override;

  size_t disconnect_user(std::string_view user, uint16_t code, std::string_view reason) override;
  size_t count_clients(std::unordered_set<std::string>& users) const override;

  // The Herald protocol over WebSocket: every route of this server is a WebSocketSession, which
  // is also the protocol's Transport.
  void on_open(WebSocket& ws) override;
  void on_message(WebSocket& ws, std::string_view data, MessageType type) override;
  void on_close(WebSocket& ws, uint16_t /*code*/, std::string_view /*reason*/) override;

  // transport::ProtocolEndpoint
  void on_open(transport::Transport& t) override;
  void on_bad_input(transport::Transport& t, std::string_view why) override;
  void on_going_away(transport::Transport& t) override;
  void on_text(transport::Transport& t, std::string_view data) override;
  void on_close(transport::Transport& t) override;

 private:
  // protocol_handler.cpp: the helpers every command group uses, and the dispatch.

  hub::Hub& hub() { return *ctx_.hub; }

  // The running command's answer comes later: returns its start, for observe_command then.
  int64_t defer_timing() {
    command_async_ = true;
    return command_started_ns_;
  }
  // herald_command_duration_seconds (started 0: not timed).
  void observe_command(protocol::Method method, int64_t started);

  Session* find(uint64_t id) {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.get();
  }

  // An error reply, counted by code for /metrics.
  void error(std::string& out, uint32_t id, protocol::ErrorCode code,
             std::string_view message = {});

  static void add_line(std::string& out) {
    if (!out.empty()) {
      out.push_back('\n');
    }
  }

  // Sends a reply later (after a broker round trip), if the connection is still there.
  void send_later(uint64_t conn_id, std::string line);

  // Adds the disconnect push to out and marks the session to close once out is sent.
  static void end_after_replies(Session& s, std::string& out, protocol::DisconnectCode code,
                                std::string_view reason);

  // Runs one decoded command of a frame, its reply (if it has one now) added to out.
  void handle(Session& s, protocol::Command& cmd, std::string& out);

  // protocol_connect.cpp: who the connection is, and until when.

  // The connect command: answers 109 when already connected, else authenticates (which may
  // refuse) and replies with the client id, the keepalive and the token's time left.
  void connect(Session& s, const protocol::Command& cmd, std::string& out);

  // Who the connection is: the token's user (and info) when a token is given, else anonymous
  // with the connect data as its info. False after answering a refusal (error 120, then the
  // connection ends with 4004 for an expired token, 4501 otherwise). ttl_s: the seconds the
  // token has left (0: no "exp").
  bool authenticate(Session& s, const protocol::Command& cmd, std::string& out, uint64_t& ttl_s);

  // With several nodes the user's connections on every node count: the broker keeps them in
  // Redis. The connect does not wait for it: a connection found over the limit a moment after
  // its connect result is closed with 4504 then (Redis unavailable: this node's count holds).
  void count_user_on_every_node(Session& s, const std::string& user);

  // The token's "exp" ends the connection with 4004 when it passes (a refresh moves it).
  // Returns the seconds left, 0 for a token without "exp" (then no timer runs).
  uint64_t arm_expiry(Session& s, int64_t expires_at_s, int64_t now_s);

  // Swaps the connection's token for a fresh one of the same user: a new expiry, nothing else
  // (the user's info in presence stays what connect gave).
  void refresh(Session& s, const protocol::Command& cmd, std::string& out);

  // protocol_channels.cpp: the channel commands and the channel state of a session.

  // The namespace's permission for op on cmd.channel (and the channel's user list). False after
  // answering the refusal (111, or 120 for a missing channel token) and counting it.
  bool allowed(Session& s, const NamespaceOptions& ns, Operation op, const protocol::Command& cmd,
               std::string& out, bool channel_token = false);

  // The channel's namespace, or nullptr after adding error 118 to out.
  const NamespaceOptions* namespace_of(const protocol::Command& cmd, std::string& out);

  void forget_presence(Session& s, const std::string& channel);

  // The broker lost the channel's live stream (Redis restarted, or the node's connection to it
  // dropped): the client may have missed publications. It is unsubscribed with 2000, which tells
  // it to subscribe again from its last position (recovered exactly, or recovered: false with
  // the new epoch). A unidirectional SSE stream cannot subscribe again by itself: it is
  // disconnected with 4003 and its EventSource reconnects with Last-Event-ID.
  void lost(Session& s, std::string_view channel_view);

  // presence, presence_stats and history: the namespace (118), whether it keeps what is asked
  // for (119), the permission, then the broker's answer, sent when it comes.
  void query(Session& s, protocol::Command& cmd, std::string& out);

  void subscribe(Session& s, protocol::Command& cmd, std::string& out);

  // Joins the channel's live stream (with recovery from `since`) and answers the subscribe.
  void join(Session& s, uint32_t cmd_id, const std::string& channel,
            std::optional<hub::Position> since, const NamespaceOptions& ns, int64_t started);

  void publish(Session& s, protocol::Command& cmd, std::string& out);
  void history(Session& s, protocol::Command& cmd);

  LoopContext& ctx_;
  protocol::CommandDecoder decoder_;
  std::vector<protocol::DecodedCommand> decoded_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;
  PushEncoder encoder_;
  bool timing_ = ctx_.core.options.latency_metrics;  // herald_command_duration_seconds is on
  int64_t command_started_ns_ = 0;  // the command being handled (0: not timed)
  bool command_async_ = false;      // its answer comes later (defer_timing was called)
};

}  // namespace herald::server
