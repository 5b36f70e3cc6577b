#pragma once
// ChunkedDecoder: a sans-I/O decoder for a chunked request body (RFC 9112 7.1). It is fed the
// bytes that follow the head in any chunking, appends the decoded body, ignores chunk extensions
// and skips (bounded) trailers. Chunk framing needs strict CRLF: accepting a bare LF here is a
// known request-smuggling vector when a proxy reads the same bytes differently.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace herald::http {

// Decodes one chunked body. Owned by one connection; Thread: the connection's loop.
class ChunkedDecoder {
 public:
  enum class Status : uint8_t { kNeedMore, kDone, kError };

  // Size line (digits + extensions + CRLF) bound: real clients send "1f40\r\n"; 4 KiB leaves room
  // for extensions while an endless "0000..." size cannot stall the parser forever.
  static constexpr size_t kMaxSizeLine = 4096;

  // Uses limits.max_body (-> kBodyTooLarge) and limits.max_header_line as the trailer bound.
  explicit ChunkedDecoder(const Limits& limits);

  // Decodes `in`, appending body bytes to `body_out`. kNeedMore: all of `in` was used
  // (consumed == in.size()). kDone: the body ended after `consumed` bytes; the rest of `in`
  // belongs to the next request. kError: see error(); consumed = offset of the bad byte.
  // Sticky after kDone/kError until reset().
  Status feed(std::string_view in, size_t& consumed, std::string& body_out);
  ParseError error() const { return error_; }
  uint64_t body_size() const { return body_size_; }
  void reset();

 private:
  enum class State : uint8_t {
    kSize,          // hex digits of the chunk size
    kSizeSpace,     // BWS after the size, must lead to ';'
    kExtension,     // chunk extension, ignored up to CR
    kSizeLf,        // LF ending the size line
    kData,          // `remaining_` body bytes
    kDataCr,        // CR after chunk data
    kDataLf,        // LF after chunk data
    kTrailerStart,  // start of a trailer line, or the final CRLF
    kTrailer,       // inside a trailer line, skipped
    kTrailerLf,     // LF ending a trailer line
    kFinalLf,       // LF ending the body
    kDone,
    kFailed,
  };

  Status fail(ParseError error, size_t at, size_t& consumed);

  uint64_t max_body_;
  size_t max_trailer_;
  State state_ = State::kSize;
  ParseError error_ = ParseError::kNone;
  uint64_t size_ = 0;       // chunk size being read
  size_t size_digits_ = 0;  // digits seen on this size line
  size_t line_bytes_ = 0;   // bytes of this size line so far
  uint64_t remaining_ = 0;  // body bytes left in this chunk
  uint64_t body_size_ = 0;  // decoded body bytes so far
  size_t trailer_bytes_ = 0;
};

}  // namespace herald::http
