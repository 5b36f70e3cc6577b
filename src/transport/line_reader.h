#pragma once
// LineReader: splits a byte stream into '\n'-terminated lines for the raw TCP transport, sans
// I/O (bytes in, lines out), so it is fuzzed and tested byte by byte. A line is at most
// max_line bytes (the limit fires at the byte that passes it, before the '\n' arrives), must be
// UTF-8, and loses a trailing '\r' (telnet and PHP clients often send "\r\n"). Blank lines are
// handed on too (a keepalive answer). One per connection. Thread: the connection's.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ws/utf8.h"

namespace herald::transport {

class LineReader {
 public:
  enum class Error : uint8_t {
    kNone,
    kTooLong,      // a line passed max_line bytes
    kInvalidUtf8,  // a line is not UTF-8
  };

  explicit LineReader(size_t max_line) : max_line_(max_line) {}

  // Calls on_line(std::string_view) -> bool for each complete line in data, in order; a false
  // return stops there. Returns the bytes consumed: the caller keeps the rest (a partial line)
  // and passes it again, with more appended, next time. After an error, consumes nothing more.
  template <class OnLine>
  size_t consume(const uint8_t* data, size_t size, OnLine&& on_line);

  Error error() const { return error_; }
  static std::string_view describe(Error error);

 private:
  size_t max_line_;
  size_t scanned_ = 0;  // bytes of the kept partial line already searched for '\n'
  ws::Utf8Validator utf8_;  // over the partial line's scanned bytes
  Error error_ = Error::kNone;
};

template <class OnLine>
size_t LineReader::consume(const uint8_t* data, size_t size, OnLine&& on_line) {
  const char* base = reinterpret_cast<const char*>(data);
  size_t start = 0;
  while (error_ == Error::kNone) {
    size_t from = start + scanned_;
    const void* nl = from < size ? std::memchr(base + from, '\n', size - from) : nullptr;
    size_t end = nl == nullptr ? size : static_cast<size_t>(static_cast<const char*>(nl) - base);
    size_t length = end - start;
    // A trailing '\r' is dropped, so it does not count.
    bool too_long = length > max_line_ + (length > 0 && base[end - 1] == '\r' ? 1 : 0);
    // Validate only the bytes not seen yet, so a long partial line costs O(n) over its arrivals;
    // of a line that is too long, only up to the byte that passes the limit, so that the error
    // is the same however the input was split (bytes after that byte are never looked at).
    size_t checked = too_long ? std::min(end, start + max_line_ + 1) : end;
    if (from < checked && !utf8_.feed(data + from, checked - from)) {
      error_ = Error::kInvalidUtf8;
      break;
    }
    if (too_long) {
      error_ = Error::kTooLong;
      break;
    }
    if (nl == nullptr) {
      scanned_ = size - start;
      return start;  // a partial line stays with the caller
    }
    bool complete = utf8_.complete();
    utf8_.reset();
    scanned_ = 0;
    if (!complete) {
      error_ = Error::kInvalidUtf8;  // a sequence cut by the '\n'
      break;
    }
    std::string_view line(base + start, length);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    start = end + 1;
    if (!on_line(line)) {
      return start;
    }
  }
  return size;
}

}  // namespace herald::transport
