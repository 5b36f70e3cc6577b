#pragma once
// LineReader: splits a byte stream into '\n'-terminated lines for the raw TCP transport, sans
// I/O (bytes in, lines out), so it is fuzzed and tested byte by byte. A line is at most
// max_line bytes (the limit fires at the byte that passes it, before the '\n' arrives), must be
// UTF-8, and loses a trailing '\r' (telnet and PHP clients often send "\r\n"). Blank lines are
// handed on too (a keepalive answer). One per connection. Thread: the connection's.

#include <cstddef>
#include <cstdint>
#include <algorithm>
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
  // The error is the same however the input is cut: bytes that could belong to a legal line
  // (max_line, plus a '\r' before the '\n') are checked for UTF-8 as they arrive, and a line
  // is too long as soon as its length rules it out. An invalid byte within that reach is thus
  // kInvalidUtf8, anything beyond it kTooLong, in whole input and byte by byte alike.
  const char* base = reinterpret_cast<const char*>(data);
  size_t start = 0;
  while (error_ == Error::kNone) {
    size_t from = start + scanned_;
    const void* nl = from < size ? std::memchr(base + from, '\n', size - from) : nullptr;
    size_t end = nl == nullptr ? size : static_cast<size_t>(static_cast<const char*>(nl) - base);
    size_t reach = std::min(end, start + max_line_ + 1);
    if (reach > from && !utf8_.feed(data + from, reach - from)) {
      error_ = Error::kInvalidUtf8;
      break;
    }
    size_t length = end - start;
    bool cr = length > 0 && base[end - 1] == '\r';
    if (length > max_line_ + 1 || (length == max_line_ + 1 && !cr)) {
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
    if (cr) {
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
