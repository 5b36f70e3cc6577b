// PollLink: the Herald protocol over HTTP long-polling, on one keep-alive connection. The
// opening commands are the body of the POST that creates the session (its answer names it in
// Herald-Session and holds the first replies); from then on one poll is always held
// (GET /connection/poll?session=S&cursor=N), and as soon as its answer arrives the next one is
// sent with the answer's cursor, so publications wait in the server's buffer only while an
// answer is on its way. Later commands are POSTed with ?session= on the same connection,
// pipelined behind the held poll (the server reads pipelined requests while one waits); their
// replies come in the poll. close() pipelines DELETE ?session= and closes once it is answered.
#include <cstring>
#include <deque>
#include <string>

#include "herald_wire.h"
#include "http_response.h"
#include "link.h"
#include "link_socket.h"

namespace herald::bench {
namespace {

constexpr std::string_view kPath = "/connection/poll";
// Commands queued beyond this: the server is not answering.
constexpr size_t kMaxOutput = 4u << 20;

// Thread: its loop's thread only.
class PollLink final : public Link, private LinkSocket::Owner {
 public:
  PollLink(const LinkTarget& target, client::Loop& loop, LinkHandler& handler)
      : target_(target), handler_(handler), socket_(loop, *this) {}

  bool start(std::string_view opening) override {
    if (!socket_.connect(target_.http)) {
      return false;
    }
    active_ = true;
    request(Request::kCreate, "POST", {}, opening);
    return true;
  }

  bool send(std::string_view lines) override {
    if (!active_ || closing_ || socket_.buffered() + pending_.size() > kMaxOutput) {
      return false;
    }
    if (session_.empty()) {
      if (!pending_.empty()) {
        pending_ += '\n';
      }
      pending_.append(lines);  // POSTed once the session exists
      return true;
    }
    request(Request::kPost, "POST", "?session=" + session_, lines);
    return true;
  }

  void close() override {
    if (active_ && !closing_) {
      closing_ = true;
      if (!session_.empty()) {
        request(Request::kDelete, "DELETE", "?session=" + session_, {});
      }  // else the DELETE follows the create's answer
    }
  }

  void abort() override { end(false, "aborted"); }
  bool active() const override { return active_; }
  int last_errno() const override { return socket_.last_errno(); }
  void add_counters(LinkCounters& into) const override {
    into.requests += counters_.requests;
    into.poll_answers += counters_.poll_answers;
    into.empty_answers += counters_.empty_answers;
  }

 private:
  enum class Request : uint8_t { kCreate, kPoll, kPost, kDelete };

  void request(Request kind, std::string_view method, std::string_view query,
               std::string_view body) {
    std::string r(method);
    r += ' ';
    r += kPath;
    r += query;
    r += " HTTP/1.1\r\nHost: ";
    r += target_.url.host_header();
    if (kind == Request::kCreate || kind == Request::kPost) {
      r += "\r\nContent-Type: text/plain\r\nContent-Length: ";
      r += std::to_string(body.size());
    }
    r += "\r\n\r\n";
    r += body;
    socket_.write(r);
    requests_.push_back(kind);
    ++counters_.requests;
  }

  void poll() {
    request(Request::kPoll, "GET", "?session=" + session_ + "&cursor=" + std::to_string(cursor_),
            {});
  }

  void on_socket_connected(LinkSocket& /*socket*/) override {}

  void on_socket_data(LinkSocket& /*socket*/, std::string_view data) override {
    // Most answers arrive whole in one read: parse them in place, keep only a remainder.
    std::string_view input = data;
    if (!in_.empty()) {
      in_.append(data);
      input = in_;
    }
    size_t used = 0;
    while (active_) {
      HttpResponse r;
      HttpError error;
      size_t size = parse_http_response(input.substr(used), &r, &error);
      if (error != HttpError::kNone) {
        end(false, "poll answer: " + std::string(to_string(error)));
        return;
      }
      if (size == 0) {
        break;
      }
      used += size;
      if (requests_.empty()) {
        end(false, "an answer to no request");
        return;
      }
      Request kind = requests_.front();
      requests_.pop_front();
      on_answer(kind, r);
    }
    if (!active_) {
      return;
    }
    if (in_.empty()) {
      in_.assign(input.substr(used));
    } else {
      in_.erase(0, used);
    }
    if (in_.empty()) {
      in_.shrink_to_fit();
    }
  }

  void on_answer(Request kind, const HttpResponse& r) {
    switch (kind) {
      case Request::kCreate:
      case Request::kPoll: {
        if (r.status != 200) {
          if (closing_ && r.status == 410) {
            return;  // the DELETE ended the session first
          }
          end(false, std::string(kind == Request::kCreate ? "POST " : "GET ") + std::string(kPath) +
                         " answered " + std::to_string(r.status) + ": " +
                         std::string(r.body.substr(0, 200)));
          return;
        }
        if (kind == Request::kCreate) {
          session_.assign(find_header(r.headers, "Herald-Session"));
          if (session_.empty()) {
            end(false, "the new session's answer has no Herald-Session header");
            return;
          }
        } else if (!closing_) {
          ++counters_.poll_answers;  // not the answer the DELETE forces out at the end
        }
        uint64_t cursor = 0;
        std::string_view lines;
        if (parse_poll_answer(r.body, &cursor, &lines) != JsonError::kNone) {
          end(false, "malformed poll answer: " + std::string(r.body.substr(0, 200)));
          return;
        }
        cursor_ = cursor;
        if (lines.empty()) {
          counters_.empty_answers += kind == Request::kPoll && !closing_ ? 1 : 0;
        } else {
          handler_.on_link_text(*this, lines);
          if (!active_) {
            return;
          }
        }
        if (kind == Request::kCreate) {
          if (!pending_.empty()) {
            request(Request::kPost, "POST", "?session=" + session_, pending_);
            pending_.clear();
          }
          if (closing_) {
            request(Request::kDelete, "DELETE", "?session=" + session_, {});
            return;
          }
        }
        if (!closing_) {
          poll();
        }
        return;
      }
      case Request::kPost:
        if (r.status != 204) {
          end(false, "POST " + std::string(kPath) + "?session= answered " +
                         std::to_string(r.status) + ": " + std::string(r.body.substr(0, 200)));
        }
        return;
      case Request::kDelete:
        end(r.status == 204,
            r.status == 204 ? std::string() : "DELETE answered " + std::to_string(r.status));
        return;
    }
  }

  void on_socket_closed(LinkSocket& /*socket*/, int err) override {
    end(false, err == 0 ? "server closed the connection" : std::string(std::strerror(err)));
  }

  void end(bool clean, std::string_view why) {
    if (!active_) {
      return;
    }
    active_ = false;
    socket_.close();
    requests_.clear();
    handler_.on_link_close(*this, clean, why);
  }

  const LinkTarget& target_;
  LinkHandler& handler_;
  LinkSocket socket_;
  std::string session_;           // from Herald-Session; empty until the create is answered
  uint64_t cursor_ = 0;           // the last entry received
  std::deque<Request> requests_;  // written or queued, oldest first (answers come in order)
  std::string in_;                // the start of an answer not yet complete
  std::string pending_;           // commands sent before the session existed
  LinkCounters counters_;
  bool active_ = false;
  bool closing_ = false;
};

}  // namespace

std::unique_ptr<Link> make_poll_link(const LinkTarget& target, client::Loop& loop,
                                     LinkHandler& handler) {
  return std::make_unique<PollLink>(target, loop, handler);
}

}  // namespace herald::bench
