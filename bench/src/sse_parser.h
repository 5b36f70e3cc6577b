#pragma once
// A parser of text/event-stream bodies for the generator's SSE client (HTML Living Standard,
// "Server-sent events", 9.2.6 "Interpreting an event stream"): bytes in, in pieces of any size,
// events out. Lines end in CRLF, LF or CR; "data:" lines of one event are joined with '\n'; a
// blank line dispatches the event (none when it has no data); ':' starts a comment (the server's
// keepalive). The stream is the server's, so untrusted: a line or an event's data over
// max_event_size is an SseError, never a crash, and the parser holds at most that much.
// Thread: one parser per stream, used by the thread that feeds it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

enum class SseError : uint8_t {
  kNone = 0,
  kLineTooLong,    // a line longer than max_event_size
  kEventTooLarge,  // an event's data (its lines and their '\n's) over max_event_size
};
std::string_view to_string(SseError error);

// One dispatched event; the views are valid during the callback only.
struct SseEvent {
  std::string_view type;  // the "event:" field; empty for the default type ("message")
  std::string_view data;  // the "data:" values joined with '\n', without a final '\n'
  std::string_view id;    // the last event id so far (it carries over to later events)
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_size = 64u << 20) : max_(max_event_size) {}

  // Parses in and calls on_event(const SseEvent&) for every event it completes; on_event
  // returns false to stop there (the rest of in is dropped). Returns false once the stream is
  // malformed (error() says how); nothing is parsed after that.
  template <typename F>
  bool feed(std::string_view in, F&& on_event);

  SseError error() const { return error_; }
  uint64_t retry_ms() const { return retry_ms_; }  // the last "retry:" (0: none)
  uint64_t comments() const { return comments_; }  // comment lines (keepalives) seen

 private:
  // Handles one complete line; true when it dispatches an event (then event() is valid).
  bool on_line(std::string_view line);
  // Keeps the start of a line that continues in the next piece.
  bool keep_partial(std::string_view piece);
  void release_partial();
  SseEvent event() const;
  void clear_event();

  size_t max_;
  SseError error_ = SseError::kNone;
  bool after_cr_ = false;   // the last piece ended in CR: a LF right after it ends nothing
  bool first_line_ = true;  // a byte order mark may start the stream
  std::string partial_;     // a line not yet ended
  std::string data_;        // the event's data lines, each followed by '\n'
  std::string type_;
  std::string id_;
  uint64_t retry_ms_ = 0;
  uint64_t comments_ = 0;
};

// ---- implementation of the template ----

template <typename F>
bool SseParser::feed(std::string_view in, F&& on_event) {
  while (!in.empty() && error_ == SseError::kNone) {
    if (after_cr_) {
      after_cr_ = false;
      if (in[0] == '\n') {
        in.remove_prefix(1);
        continue;
      }
    }
    size_t eol = 0;
    while (eol < in.size() && in[eol] != '\n' && in[eol] != '\r') {
      ++eol;
    }
    if (eol == in.size()) {
      return keep_partial(in);
    }
    std::string_view line = in.substr(0, eol);
    after_cr_ = in[eol] == '\r';
    in.remove_prefix(eol + 1);
    if (!partial_.empty()) {
      if (!keep_partial(line)) {
        return false;
      }
      line = partial_;
    } else if (line.size() > max_) {
      error_ = SseError::kLineTooLong;
      return false;
    }
    bool dispatch = on_line(line);
    release_partial();
    if (dispatch) {
      bool go_on = on_event(event());
      clear_event();
      if (!go_on) {
        break;
      }
    }
  }
  return error_ == SseError::kNone;
}

}  // namespace herald::bench
