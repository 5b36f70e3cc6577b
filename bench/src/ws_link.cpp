// WsLink: the Herald protocol over a WebSocket (--url, /connection/websocket by default): the
// opening commands are one text frame sent when the upgrade completes, each send is one frame,
// each message from the server is handed on whole (it may hold several lines). A thin adapter
// over client::Connection, which does the handshake, framing and ping answers.
#include <string>

#include "link.h"

namespace herald::bench {
namespace {

// Thread: its loop's thread only.
class WsLink final : public Link, private client::ConnectionHandler {
 public:
  WsLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target), handler_(handler), conn_(loop, *this, target.ws_options) {}

  bool start(std::string_view opening) override {
    opening_.assign(opening);
    return conn_.start(target_.http, target_.url);
  }

  bool send(std::string_view lines) override { return conn_.send_text(lines); }
  void close() override { conn_.close(1000, "bench done"); }
  void abort() override { conn_.abort(); }
  bool active() const override {
    auto s = conn_.state();
    return s != client::Connection::State::kIdle && s != client::Connection::State::kClosed;
  }
  int last_errno() const override { return conn_.last_errno(); }

 private:
  void on_open(client::Connection& conn) override {
    conn.send_text(opening_);
    opening_.clear();
    opening_.shrink_to_fit();
  }

  void on_message(client::Connection& /*conn*/, client::Opcode /*opcode*/,
                  std::string_view payload) override {
    handler_.on_link_text(*this, payload);
  }

  void on_close(client::Connection& /*conn*/, const client::CloseInfo& info) override {
    bool clean = info.cause == client::CloseCause::kClosed && info.code == 1000;
    handler_.on_link_close(*this, clean, clean ? std::string() : info.describe());
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  client::Connection conn_;
  std::string opening_;  // until the upgrade completes
};

}  // namespace

std::unique_ptr<Link> make_ws_link(const LinkTarget& target, client::Loop& loop,
                                   LinkHandler& handler) {
  return std::make_unique<WsLink>(target, loop, handler);
}

}  // namespace herald::bench
