#pragma once
// Splits the raw TCP transport's byte stream into lines (docs/PROTOCOL.md, "Raw TCP"): each
// line ends in '\n', a '\r' before it is dropped, an empty line is the server's keepalive. Bytes
// in, in pieces of any size; complete lines out, as views into the piece where possible; a
// line cut by the end of a piece waits in the splitter. The server's bytes are untrusted: a line
// over max_line bytes is an error, never a crash, and the splitter holds at most that much.
// Thread: one splitter per connection, used by the thread that feeds it.

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::client {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_(max_line) {}

  // Calls on_line(std::string_view line) for every line in completed (without its "\n" or
  // "\r\n"; possibly empty); on_line returns false to stop there (the rest of in is dropped).
  // Returns false once a line is too long; nothing is parsed after that.
  template <typename F>
  bool feed(std::string_view in, F&& on_line);

  bool failed() const { return failed_; }
  size_t buffered() const { return partial_.size(); }

 private:
  bool keep(std::string_view piece);
  void release();

  size_t max_;
  bool failed_ = false;
  std::string partial_;  // the start of a line not yet ended
};

// ---- implementation of the template ----

template <typename F>
bool LineSplitter::feed(std::string_view in, F&& on_line) {
  while (!in.empty() && !failed_) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      return keep(in);
    }
    std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl + 1);
    if (!partial_.empty()) {
      if (!keep(line)) {
        return false;
      }
      line = partial_;
    } else if (line.size() > max_) {
      failed_ = true;
      return false;
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    bool go_on = on_line(line);
    release();
    if (!go_on) {
      break;
    }
  }
  return !failed_;
}

}  // namespace herald::client
