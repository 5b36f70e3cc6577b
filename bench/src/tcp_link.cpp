// TcpLink: the Herald protocol over the raw TCP transport (docs/PROTOCOL.md, "Raw TCP"), plain
// or TLS (--tcp tls://HOST:PORT): a thin adapter over client::LineConnection, which sends the
// opening commands as lines once connected, hands every server line on alone and answers the
// server's keepalive (an empty line) with an empty line. close() sends FIN and waits for the
// server's.
#include "herald/client/line_connection.h"
#include "link.h"

namespace herald::bench {
namespace {

// send() refuses beyond this much unwritten output: the server is not reading.
constexpr size_t kMaxOutput = 4u << 20;

client::LineOptions line_options(const LinkTarget& target) {
  client::LineOptions o;
  o.max_output_bytes = kMaxOutput;
  o.tls = target.ws_options.tls;  // one context for every TLS client of the run
  return o;
}

// Thread: its loop's thread only.
class TcpLink final : public Link, private client::LineHandler {
 public:
  TcpLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target), handler_(handler), conn_(loop, *this, line_options(target)) {}

  bool start(std::string_view opening) override {
    if (!conn_.start(target_.tcp, target_.tcp_url)) {
      return false;
    }
    conn_.send_lines(opening);  // queued until the connect (and TLS handshake) completes
    return true;
  }

  bool send(std::string_view lines) override { return conn_.send_lines(lines); }
  void close() override { conn_.close(); }
  void abort() override { conn_.abort(); }
  bool active() const override {
    auto s = conn_.state();
    return s != client::LineConnection::State::kIdle && s != client::LineConnection::State::kClosed;
  }
  int last_errno() const override { return conn_.last_errno(); }
  void add_counters(LinkCounters& into) const override { into.keepalives += conn_.keepalives(); }

 private:
  void on_line(client::LineConnection& /*conn*/, std::string_view line) override {
    handler_.on_link_text(*this, line);
  }

  void on_close(client::LineConnection& /*conn*/, const client::CloseInfo& info) override {
    bool clean = info.cause == client::CloseCause::kClosed;
    std::string why;
    if (!clean) {
      why = info.cause == client::CloseCause::kConnectionLost && info.sys_errno == 0
                ? std::string("server closed the connection")
                : info.describe();
    }
    handler_.on_link_close(*this, clean, why);
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  client::LineConnection conn_;
};

}  // namespace

std::unique_ptr<Link> make_tcp_link(const LinkTarget& target, client::Loop& loop,
                                    LinkHandler& handler) {
  return std::make_unique<TcpLink>(target, loop, handler);
}

}  // namespace herald::bench
