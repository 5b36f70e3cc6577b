#pragma once
// Endpoint: the Pusher protocol 7 over WebSocket on /app/{key} (docs/PUSHER.md), one per loop,
// next to the Herald protocol's handler on the same transports and the same hub. Each connection
// is a WebSocketSession whose Handler is this endpoint; its protocol state is a Session, a member
// of the loop's hub like a Herald protocol session, so publications reach both kinds of client
// through one fan-out. Pusher channel `c` of an app is the Herald channel `<namespace>:c`.
//
// Presence (member_added only for a user's first connection, member_removed only after their
// last) is decided per loop by a Roster per presence channel: one hub member that follows the
// broker's join/leave announcements for the channel and keeps its clients by user. It first reads
// the channel's presence once it is subscribed; announcements that arrive before that answer are
// already in it (the memory broker answers through the same queue, in order). So every loop
// draws the same conclusions from the same announcements, whichever loop the connections are on.
// Thread: the loop's own.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/string_hash.h"
#include "herald/websocket.h"
#include "hub/hub.h"
#include "pusher/apps.h"
#include "pusher/channels.h"
#include "pusher/fanout.h"
#include "pusher/frames.h"
#include "pusher/host.h"
#include "pusher/metrics.h"
#include "pusher/xhr_session.h"
#include "http/request.h"
#include "transport/http_session.h"
#include "transport/websocket.h"

namespace herald::pusher {

class Endpoint;
class XhrSession;
class XhrSessions;

// Close and error codes (docs/PUSHER.md, "Codes"). pusher-js: 4000-4099 do not reconnect,
// 4100-4199 reconnect after a backoff, 4200-4299 reconnect at once; pusher:error events with
// codes 4300-4399 leave the connection open.
enum Code : uint16_t {
  kAppNotFound = 4001,        // close: no app has this key
  kBadVersion = 4006,         // close: protocol is not a number
  kUnsupportedProtocol = 4007,  // close: protocol outside 5..7
  kNoProtocol = 4008,         // close: no protocol parameter
  kUnauthorized = 4009,       // close: Origin not allowed, signin refused, user terminated
  kOverCapacity = 4100,       // close: an HTTP fallback session that does not keep up
  kReconnectNow = 4200,       // close: the server is going away; connect again
  kInvalidMessage = 4300,     // error: not JSON, no event, bad data
  kClientEventRate = 4301,    // error: client events over the rate
  kClientEventRefused = 4302,  // error: not on this channel (public, not a member, disabled)
  kEventTooLarge = 4303,      // error: the event's data is over max_event_size
  kUnknownEvent = 4304,       // error: a pusher: event this server does not know
};

// How a Session reaches its client: a WebSocket (/app/{key}) or pusher-js's HTTP fallbacks
// (xhr_streaming, xhr_polling: an XhrSession). Exactly one of the two is set.
struct Link {
  transport::WebSocketSession* ws = nullptr;
  XhrSession* xhr = nullptr;
};

// One Pusher connection's state, whatever carries it. Owned by the endpoint's map; the hub knows
// it as a member of each channel it subscribed to.
class Session final : public hub::ChannelMember {
 public:
  Session(Endpoint& endpoint, Link link, uint64_t id, const App& app, std::string socket_id);

  void on_channel_publications(std::string_view channel, const std::string& epoch,
                               const std::shared_ptr<const broker::PublicationBatch>& batch)
      override;
  void on_channel_publication(std::string_view channel, const std::string& epoch,
                              const std::shared_ptr<const broker::PublicationRecord>& pub)
      override;
  void on_channel_lost(std::string_view channel) override;

  // One event for this client only.
  void send(std::string_view frame);
  // Ends the connection: what was sent goes first, then the close with `code` (pusher-js acts
  // on it by range; see Code).
  void close(uint16_t code, std::string_view reason);

 private:
  // Both of the above: the frames of these records (the loop's cached ones; `shared`, the batch
  // or the single record the hub gave every member, is the cache key) to this connection.
  template <typename Shared>
  void deliver(std::string_view channel, const std::string& epoch, const Shared& shared,
               FrameCache::Records records);

 public:

  struct Subscription {
    ChannelKind kind = ChannelKind::kPublic;
    bool established = false;  // subscription_succeeded was sent
    std::string user_id;       // presence: the member this connection is
    std::string user_info;     // presence: raw JSON ("" = none)
    // The history extension (history.cpp): the client asked for positions (herald_since). Until
    // subscription_succeeded is sent, what it must get first waits in `held` (the missed
    // publications, then live ones), at most the app's `history` of them.
    bool positions = false;
    bool asked_offset = false;  // herald_since gave a position (not {})
    bool replied = false;    // the hub's subscribe reply is in (top, recovered are set)
    bool recovered = false;  // held starts right after the client's position
    bool overflowed = false;  // held passed its bound: recovered is false
    broker::StreamTop top;
    std::string held_epoch;
    std::vector<std::shared_ptr<const broker::PublicationRecord>> held;
  };

  Endpoint& endpoint;
  Link link;
  uint64_t id;  // the connection id (WebSocket) or the session's client id (HTTP fallbacks)
  const App& app;
  std::string socket_id;
  std::string user_id;    // signed in as (pusher:signin), "" until then
  std::unordered_map<std::string, Subscription, StringHash, std::equal_to<>> subs;  // by Herald name
  // subs.find(channel), remembering the last answer: a fan-out asks every subscriber of a loop
  // for the same channel, and a lookup in 10,000 maps (two cache misses each) was the Pusher
  // path's largest cost of its own. Whoever erases from subs (or clears it) must call
  // forget_found() first: the remembered entry may be the one erased.
  Subscription* find_sub(std::string_view channel) {
    if (found_ != nullptr && *found_name_ == channel) {
      return found_;
    }
    auto it = subs.find(channel);
    if (it == subs.end()) {
      return nullptr;
    }
    found_name_ = &it->first;
    found_ = &it->second;
    return found_;
  }
  void forget_found() { found_ = nullptr; }
  // Client events: a token bucket (client_event_rate a second, burst twice that).
  double tokens = 0;
  uint64_t refilled_ms = 0;

 private:
  const std::string* found_name_ = nullptr;  // find_sub's last answer (a node of subs)
  Subscription* found_ = nullptr;
};

// A presence channel as this loop sees it. See the endpoint's comment.
class Roster final : public hub::ChannelMember {
 public:
  Roster(Endpoint& endpoint, std::string channel) : endpoint_(endpoint), channel_(std::move(channel)) {}
  void on_channel_publication(std::string_view, const std::string&,
                              const std::shared_ptr<const broker::PublicationRecord>&) override {}
  void on_channel_publications(std::string_view, const std::string&,
                               const std::shared_ptr<const broker::PublicationBatch>&) override {}
  void on_channel_join(std::string_view channel, const broker::ClientInfo& who) override;
  void on_channel_leave(std::string_view channel, const broker::ClientInfo& who) override;

  // The presence read after the roster joined the channel: the state from which announcements
  // apply.
  void synced(const std::vector<broker::ClientInfo>& members);
  bool is_synced() const { return synced_; }
  size_t user_count() const { return users_.size(); }
  bool has_user(const std::string& user) const { return users_.count(user) != 0; }
  // The members as pusher_internal:subscription_succeeded's data (a JSON object text).
  std::string presence_data() const;

  std::unordered_set<Session*> pending;      // subscribed, waiting to see their own join
  std::unordered_set<Session*> established;  // got subscription_succeeded

 private:
  void establish_ready();
  void member_event(std::string_view event, const std::string& user, const std::string& info);

  Endpoint& endpoint_;
  std::string channel_;  // Herald name
  bool synced_ = false;
  struct Member {
    std::string user;
    std::string info;
  };
  std::unordered_map<std::string, Member> clients_;  // by client (socket id)
  std::unordered_map<std::string, size_t> users_;    // connections per user
};

class Endpoint final : public Handler {
 public:
  Endpoint(const Apps& apps, std::unique_ptr<Host> host);
  ~Endpoint() override;

  // Routes an upgrade on /app/{key}: checks the key, the protocol version and the Origin, then
  // hands the connection to a WebSocketSession served by this endpoint. A refusal is still
  // upgraded, then told with pusher:error and closed with its code, as pusher-js expects.
  void upgrade(transport::HttpSession& http, const http::Request& req, std::string_view key);

  // Handler
  void on_open(WebSocket& ws) override;
  void on_message(WebSocket& ws, std::string_view data, MessageType type) override;
  void on_close(WebSocket& ws, uint16_t code, std::string_view reason) override;

  // Why a client of `app` (null: no app has `key`) asking with `req` is refused, with the
  // message; 0 when it is not (docs/PUSHER.md, "Codes").
  uint16_t refusal(const App* app, std::string_view key, const http::Request& req,
                   std::string& message) const;
  // An accepted client, whatever carries it: its Session, told connection_established.
  Session& open_session(Link link, uint64_t id, const App& app);
  // One message from a client (a WebSocket text frame, one string of an xhr_send).
  void handle(Session& s, std::string_view text);
  // The client `id` is gone: it leaves its channels and is forgotten.
  void closed(uint64_t id);

  // pusher-js's HTTP fallbacks (xhr_session.cpp), on the loop that holds the session.
  XhrSessions& xhr() { return *xhr_; }

  // For the REST API, on this loop.
  // Closes every connection of the app signed in as `user` with 4009; returns how many.
  size_t terminate_user(const App& app, std::string_view user);
  // The Pusher subscribers of each channel of the app on this loop (Herald names).
  void subscriber_counts(const App& app, std::unordered_map<std::string, size_t>& out) const;

  Host& host() { return *host_; }
  Metrics& metrics() { return metrics_; }
  const Metrics& metrics() const { return metrics_; }
  const Apps& apps() const { return apps_; }
  FrameCache& frames() { return frames_; }

  // Subscriptions (subscriptions.cpp).
  void subscribe(Session& s, const ClientFrame& f);
  void unsubscribe(Session& s, std::string_view pusher_channel);
  void leave_all(Session& s);
  void subscription_failed(Session& s, std::string_view pusher_channel, std::string_view type,
                           std::string_view message, int status);
  void subscription_succeeded(Session& s, const std::string& channel, std::string_view data);
  // The history extension (history.cpp): reads herald_since into the subscription (false: it is
  // malformed and subscription_error was sent); keeps the hub's reply; sends the position with
  // subscription_succeeded and then what was held.
  bool read_since(Session& s, const ClientFrame& f, std::string_view pusher_name,
                  Session::Subscription& sub, std::optional<hub::Position>& since);
  void keep_reply(Session::Subscription& sub, hub::SubscribeReply& reply);
  void hold(Session& s, Session::Subscription& sub, const std::string& epoch,
            FrameCache::Records records);
  void send_positioned(Session& s, std::string_view pusher_name, std::string_view succeeded_data,
                       Session::Subscription& sub);
  Session* find(uint64_t id);

  // Webhooks (hooks.cpp). Occupancy and presence are counted over every loop on the channel's
  // owner loop (a hash of its name): each loop posts there when its own count of a channel's
  // established Pusher subscriptions goes 0 -> 1 or 1 -> 0, and once per presence member
  // connection established or gone. A loop's posts arrive in order, so the owner's counts never
  // go below zero, and it alone decides this node's changes; the broker's holds make them the
  // cluster's (hook_holds.h): channel_occupied/vacated and member_added/removed once per cluster.
  void hook_established(Session& s, const std::string& channel,
                        const Session::Subscription& sub);
  void hook_removed(Session& s, const std::string& channel, const Session::Subscription& sub);
  void hook_client_event(Session& s, const ClientFrame& f, const Session::Subscription& sub);
  // On the owner loop: a loop's channel occupancy changed (+1 / -1); a member connection came or
  // went.
  void owner_occupancy(const App& app, const std::string& channel, int delta);
  void owner_member(const App& app, const std::string& channel, const std::string& user,
                    int delta);

 private:
  void client_event(Session& s, const ClientFrame& f);
  void decide_hook(bool start, const std::string& key, std::function<void(bool)> report);
  void signin(Session& s, const ClientFrame& f);
  void error(Session& s, uint16_t code, std::string_view message);
  void join_presence(Session& s, const std::string& channel);
  void leave_presence(Session& s, const std::string& channel, const Session::Subscription& sub);
  Roster& roster(const std::string& channel);
  void release_roster(const std::string& channel);
  uint32_t random_u32();

  const Apps& apps_;
  std::unique_ptr<Host> host_;
  Metrics metrics_;
  FrameDecoder decoder_;
  JsonObject channel_data_;
  JsonObject since_;
  FrameCache frames_;
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;  // by connection id
  std::unordered_map<std::string, std::unique_ptr<Roster>> rosters_;  // by Herald channel
  std::unique_ptr<XhrSessions> xhr_;
  // Webhooks: this loop's established subscriptions per channel (apps with occupancy hooks);
  // on the owner loop, the loops occupying each channel and the connections of each presence
  // member ("<channel>\n<user>").
  std::unordered_map<std::string, size_t> hook_local_;
  std::unordered_map<std::string, size_t> hook_loops_;
  std::unordered_map<std::string, size_t> hook_members_;
  // What upgrade() decided for the connection being opened (on_open runs inside it).
  const App* opening_app_ = nullptr;
  uint16_t opening_refusal_ = 0;
  std::string opening_message_;
  uint64_t rng_state_;
};

}  // namespace herald::pusher
