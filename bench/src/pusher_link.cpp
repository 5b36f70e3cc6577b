// PusherLink: a subscriber over the Pusher protocol 7 (docs/PUSHER.md), what pusher-js and
// Laravel Echo send, for measuring Herald's Pusher path against its own protocol with the same
// subscriber code. --url is the Pusher WebSocket URL (ws://HOST:PORT/app/KEY?protocol=7); the
// server API of the same host:port publishes, so the app's namespace must be the bench namespace
// (Pusher channel `fanout` is the Herald channel `bench:fanout`).
//
// The link translates, so that the subscribers (subscriber.cpp) stay protocol-blind:
//   opening connect + subscribe -> pusher:subscribe {channel: <name after the namespace>} once
//                                  pusher:connection_established has come
//   pusher_internal:subscription_succeeded -> the two replies {"id":..,"result":{...}}
//   pusher:error, pusher:subscription_error -> an error reply to the subscribe
//   any other event on the channel          -> a message push with its data (the stamp)
// Pusher frames carry no offset: the link numbers them 1, 2, 3... so the subscriber's offset
// check says nothing here; the stamp's sequence numbers (gaps, duplicates) still check the
// stream. Thread: its loop's thread only.
#include <string>

#include "herald_wire.h"
#include "json_scan.h"
#include "link.h"

namespace herald::bench {
namespace {

// The value of "key":"..." (string body) or "key":N in a one-line JSON command, or "".
std::string_view member_text(std::string_view line, std::string_view key) {
  JsonValue top;
  if (parse_value(line, &top) != JsonError::kNone || top.type != JsonType::kObject) {
    return {};
  }
  std::string_view found;
  for_each_member(top, [&](std::string_view k, const JsonValue& v) {
    if (k == key) {
      found = v.type == JsonType::kString ? v.string_body() : v.raw;
      return false;
    }
    if (k == "params" && v.type == JsonType::kObject) {
      for_each_member(v, [&](std::string_view pk, const JsonValue& pv) {
        if (pk == key) {
          found = pv.type == JsonType::kString ? pv.string_body() : pv.raw;
          return false;
        }
        return true;
      });
    }
    return found.empty();
  });
  return found;
}

class PusherLink final : public Link, private client::ConnectionHandler {
 public:
  PusherLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target), handler_(handler), conn_(loop, *this, target.ws_options) {}

  bool start(std::string_view opening) override {
    // The opening is connect then subscribe (subscriber.cpp): keep their ids and the channel.
    connect_id_.clear();
    subscribe_id_.clear();
    for_each_line(opening, [&](std::string_view line) {
      std::string_view method = member_text(line, "method");
      if (method == "connect") {
        connect_id_ = std::string(member_text(line, "id"));
      } else if (method == "subscribe") {
        subscribe_id_ = std::string(member_text(line, "id"));
        herald_channel_ = std::string(member_text(line, "channel"));
      }
    });
    size_t colon = herald_channel_.find(':');
    pusher_channel_ = colon == std::string::npos ? herald_channel_
                                                 : herald_channel_.substr(colon + 1);
    offset_ = 0;
    return conn_.start(target_.http, target_.url);
  }

  // The subscribers send nothing after the opening; a Pusher client has nothing to send either.
  bool send(std::string_view /*lines*/) override { return active(); }
  void close() override { conn_.close(1000, "bench done"); }
  void abort() override { conn_.abort(); }
  bool active() const override {
    auto s = conn_.state();
    return s != client::Connection::State::kIdle && s != client::Connection::State::kClosed;
  }
  int last_errno() const override { return conn_.last_errno(); }

 private:
  void on_message(client::Connection& conn, client::Opcode /*opcode*/,
                  std::string_view payload) override {
    JsonValue top;
    if (parse_value(payload, &top) != JsonError::kNone || top.type != JsonType::kObject) {
      handler_.on_link_text(*this, payload);  // the subscriber counts it as malformed
      return;
    }
    std::string_view event;
    JsonValue data;
    for_each_member(top, [&](std::string_view k, const JsonValue& v) {
      if (k == "event") {
        event = v.string_body();
      } else if (k == "data") {
        data = v;
      }
      return true;
    });
    if (event == "pusher:connection_established") {
      line_ = R"({"event":"pusher:subscribe","data":{"channel":")";
      line_ += pusher_channel_;
      line_ += R"("}})";
      conn.send_text(line_);
      return;
    }
    if (event == "pusher_internal:subscription_succeeded") {
      line_.clear();
      if (!connect_id_.empty()) {
        line_ += R"({"id":)" + connect_id_ + R"(,"result":{}})" + "\n";
      }
      line_ += R"({"id":)" + subscribe_id_ + R"(,"result":{"epoch":"","offset":0,"publications":[]}})";
      handler_.on_link_text(*this, line_);
      return;
    }
    if (event == "pusher:error" || event == "pusher:subscription_error") {
      line_ = R"({"id":)" + subscribe_id_ + R"(,"error":{"code":4000,"message":"pusher"}})";
      handler_.on_link_text(*this, line_);
      return;
    }
    if (event == "pusher:ping") {
      conn.send_text(R"({"event":"pusher:pong","data":{}})");
      return;
    }
    if (event.starts_with("pusher")) {
      return;  // pusher:pong, pusher_internal:member_*, pusher:cache_miss...
    }
    line_ = R"({"push":"message","channel":")";
    line_ += herald_channel_;
    line_ += R"(","offset":)";
    line_ += std::to_string(++offset_);
    line_ += R"(,"data":)";
    line_ += data.raw.empty() ? std::string_view("null") : data.raw;
    line_ += '}';
    handler_.on_link_text(*this, line_);
  }

  void on_close(client::Connection& /*conn*/, const client::CloseInfo& info) override {
    bool clean = info.cause == client::CloseCause::kClosed && info.code == 1000;
    handler_.on_link_close(*this, clean, clean ? std::string() : info.describe());
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  client::Connection conn_;
  std::string connect_id_;
  std::string subscribe_id_;
  std::string herald_channel_;  // bench:fanout
  std::string pusher_channel_;  // fanout
  uint64_t offset_ = 0;
  std::string line_;  // scratch
};

}  // namespace

std::unique_ptr<Link> make_pusher_link(const LinkTarget& target, client::Loop& loop,
                                       LinkHandler& handler) {
  return std::make_unique<PusherLink>(target, loop, handler);
}

}  // namespace herald::bench
