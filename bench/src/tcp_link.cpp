// TcpLink: the Herald protocol over the raw TCP transport (docs/PROTOCOL.md, "Raw TCP"): the
// opening commands go out as lines as soon as the TCP connect completes; every line from the
// server is handed on alone, except the empty line, the server's keepalive, which is answered
// with an empty line (the pong a client owes it). close() sends FIN and waits for the server's.
#include <cstring>

#include "line_splitter.h"
#include "link.h"
#include "link_socket.h"

namespace herald::bench {
namespace {

// The server's limit on a line (max_message_size); a longer one is a broken server.
constexpr size_t kMaxLine = 16u << 20;
// send() refuses beyond this much unwritten output: the server is not reading.
constexpr size_t kMaxOutput = 4u << 20;

// Thread: its loop's thread only.
class TcpLink final : public Link, private LinkSocket::Owner {
 public:
  TcpLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target), handler_(handler), socket_(loop, *this), lines_(kMaxLine) {}

  bool start(std::string_view opening) override {
    if (!socket_.connect(target_.tcp)) {
      return false;
    }
    active_ = true;
    queue_lines(opening);
    return true;
  }

  bool send(std::string_view lines) override {
    if (!active_ || closing_ || socket_.buffered() > kMaxOutput) {
      return false;
    }
    queue_lines(lines);
    return true;
  }

  void close() override {
    if (active_ && !closing_) {
      closing_ = true;
      socket_.shutdown_write();  // the server closes its side in turn
    }
  }

  void abort() override { end(false, "aborted"); }
  bool active() const override { return active_; }
  int last_errno() const override { return socket_.last_errno(); }
  void add_counters(LinkCounters& into) const override { into.keepalives += keepalives_; }

 private:
  void queue_lines(std::string_view lines) {
    socket_.write(lines);
    socket_.write("\n");
  }

  void on_socket_connected(LinkSocket& /*socket*/) override {}

  void on_socket_data(LinkSocket& socket, std::string_view data) override {
    bool ok = lines_.feed(data, [&](std::string_view line) {
      if (line.empty()) {
        ++keepalives_;
        if (!closing_) {
          socket.write("\n");
        }
        return true;
      }
      handler_.on_link_text(*this, line);
      return active_;
    });
    if (!ok && active_) {
      end(false, "server line over 16 MiB");
    }
  }

  void on_socket_closed(LinkSocket& /*socket*/, int err) override {
    if (closing_ && err == 0) {
      end(true, {});
      return;
    }
    std::string why = err == 0 ? "server closed the connection" : std::strerror(err);
    end(false, why);
  }

  void end(bool clean, std::string_view why) {
    if (!active_) {
      return;
    }
    active_ = false;
    socket_.close();
    handler_.on_link_close(*this, clean, why);
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  LinkSocket socket_;
  LineSplitter lines_;
  bool active_ = false;
  bool closing_ = false;
  uint64_t keepalives_ = 0;
};

}  // namespace

std::unique_ptr<Link> make_tcp_link(const LinkTarget& target, client::Loop& loop,
                                    LinkHandler& handler) {
  return std::make_unique<TcpLink>(target, loop, handler);
}

}  // namespace herald::bench
