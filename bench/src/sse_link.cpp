// SseLink: the Herald protocol over Server-Sent Events, bidirectional (the SDK's way): the
// connect command travels in the stream's URL (GET /connection/sse?connect=<command>), the
// server answers with a text/event-stream naming the session (Herald-Session), and every event's
// data is one or more protocol lines. Later commands are POSTed to /connection/sse?session=<id>
// (answer 204; their replies come on the stream), one POST at a time, each on a connection of
// its own that closes after the answer (as a browser's fetch would on a cold connection). The
// opening's lines after the connect are the first such POST. close() sends FIN on the stream;
// the server ends the session and closes.
#include <cstring>
#include <string>

#include "http_response.h"
#include "link.h"
#include "link_socket.h"
#include "sse_parser.h"

namespace herald::bench {
namespace {

constexpr std::string_view kPath = "/connection/sse";
// An event can hold a batch of pushes (at most 256 KiB) or a reply with history (the server's
// max_message_size): beyond this it is a broken server.
constexpr size_t kMaxEvent = 16u << 20;
// Commands waiting for their POST beyond this: the server is not answering.
constexpr size_t kMaxPending = 4u << 20;

void append_url_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
}

// Thread: its loop's thread only.
class SseLink final : public Link, private LinkSocket::Owner {
 public:
  SseLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target),
        handler_(handler),
        stream_(loop, *this),
        post_(loop, *this),
        events_(kMaxEvent) {}

  bool start(std::string_view opening) override {
    size_t nl = opening.find('\n');
    std::string_view connect = opening.substr(0, nl);
    if (nl != std::string_view::npos) {
      pending_.assign(opening.substr(nl + 1));
    }
    if (!stream_.connect(target_.http)) {
      return false;
    }
    active_ = true;
    std::string request = "GET ";
    request += kPath;
    request += "?connect=";
    append_url_encoded(request, connect);
    request += " HTTP/1.1\r\nHost: ";
    request += target_.url.host_header();
    request += "\r\nAccept: text/event-stream\r\n\r\n";
    stream_.write(request);
    ++counters_.requests;
    return true;
  }

  bool send(std::string_view lines) override {
    if (!active_ || closing_ || pending_.size() > kMaxPending) {
      return false;
    }
    if (!pending_.empty()) {
      pending_ += '\n';
    }
    pending_.append(lines);
    post_next();
    return true;
  }

  void close() override {
    if (active_ && !closing_) {
      closing_ = true;
      post_.close();
      stream_.shutdown_write();
    }
  }

  void abort() override { end(false, "aborted"); }
  bool active() const override { return active_; }
  int last_errno() const override { return stream_.last_errno(); }
  void add_counters(LinkCounters& into) const override {
    into.requests += counters_.requests;
    into.keepalives += events_.comments();
  }

 private:
  // Starts the POST of everything pending, if the session is known and no POST is under way.
  void post_next() {
    if (session_.empty() || post_.is_open() || pending_.empty() || closing_) {
      return;
    }
    if (!post_.connect(target_.http)) {
      end(false, "cannot connect for a POST");
      return;
    }
    std::string request = "POST ";
    request += kPath;
    request += "?session=";
    request += session_;  // the server makes it of letters, digits and '-'
    request += " HTTP/1.1\r\nHost: ";
    request += target_.url.host_header();
    request += "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
    request += std::to_string(pending_.size());
    request += "\r\n\r\n";
    request += pending_;
    post_.write(request);
    pending_.clear();
    post_in_.clear();
    ++counters_.requests;
  }

  void on_socket_connected(LinkSocket& /*socket*/) override {}

  void on_socket_data(LinkSocket& socket, std::string_view data) override {
    if (&socket == &post_) {
      on_post_data(data);
    } else if (session_.empty()) {
      on_head_data(data);
    } else {
      on_events(data);
    }
  }

  void on_head_data(std::string_view data) {
    head_.append(data);
    HttpHead head;
    HttpError error;
    size_t size = parse_http_head(head_, &head, &error);
    if (error != HttpError::kNone) {
      end(false, "event stream head: " + std::string(to_string(error)));
      return;
    }
    if (size == 0) {
      return;
    }
    if (head.status != 200) {
      end(false, "GET " + std::string(kPath) + " answered " + std::to_string(head.status));
      return;
    }
    if (!find_header(head.headers, "Content-Type").starts_with("text/event-stream")) {
      end(false, "the stream's Content-Type is not text/event-stream");
      return;
    }
    std::string_view session = find_header(head.headers, "Herald-Session");
    if (session.empty()) {
      end(false, "the stream has no Herald-Session header");
      return;
    }
    session_.assign(session);
    std::string rest = head_.substr(size);
    head_.clear();
    head_.shrink_to_fit();
    post_next();
    if (active_ && !rest.empty()) {
      on_events(rest);
    }
  }

  void on_events(std::string_view data) {
    bool ok = events_.feed(data, [&](const SseEvent& event) {
      handler_.on_link_text(*this, event.data);
      return active_;
    });
    if (!ok && active_) {
      end(false, std::string(to_string(events_.error())));
    }
  }

  void on_post_data(std::string_view data) {
    post_in_.append(data);
    HttpResponse r;
    HttpError error;
    size_t size = parse_http_response(post_in_, &r, &error);
    if (error != HttpError::kNone) {
      end(false, "POST answer: " + std::string(to_string(error)));
      return;
    }
    if (size == 0) {
      return;
    }
    if (r.status != 204) {
      end(false, "POST " + std::string(kPath) + " answered " + std::to_string(r.status) + ": " +
                     std::string(r.body.substr(0, 200)));
      return;
    }
    post_.close();
    post_in_.clear();
    post_in_.shrink_to_fit();
    post_next();
  }

  void on_socket_closed(LinkSocket& socket, int err) override {
    if (&socket == &post_) {
      if (active_ && !closing_) {
        end(false, err == 0 ? "POST connection closed before the answer"
                            : std::string("POST: ") + std::strerror(err));
      }
      return;
    }
    if (closing_ && err == 0) {
      end(true, {});
      return;
    }
    end(false,
        err == 0 ? "server closed the stream" : std::string("stream: ") + std::strerror(err));
  }

  void end(bool clean, std::string_view why) {
    if (!active_) {
      return;
    }
    active_ = false;
    stream_.close();
    post_.close();
    handler_.on_link_close(*this, clean, why);
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  LinkSocket stream_;
  LinkSocket post_;
  SseParser events_;
  std::string head_;     // the stream's response head until it is complete
  std::string session_;  // from Herald-Session; empty until the head is in
  std::string pending_;  // commands waiting for a POST
  std::string post_in_;  // the POST's answer until it is complete
  LinkCounters counters_;
  bool active_ = false;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<Link> make_sse_link(const LinkTarget& target, client::Loop& loop,
                                    LinkHandler& handler) {
  return std::make_unique<SseLink>(target, loop, handler);
}

}  // namespace herald::bench
