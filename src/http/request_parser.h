#pragma once
// RequestParser: an incremental, allocation-free HTTP/1.1 request-head parser (RFC 9110/9112).
// It works on bytes, never on sockets, so it can be fed in any chunking and fuzzed. Untrusted
// input never throws: every rejection is a ParseError that maps to one HTTP status.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request.h"

namespace herald::http {

// Bounds on one request head. Every limit fires as soon as it is exceeded, even while the head
// is still incomplete, so a slow or huge head never makes the server buffer more than this.
struct Limits {
  // Whole head including leading empty lines and the final CRLFCRLF; browsers send < 8 KiB
  // even with cookies, and nginx's default large buffer is 8 KiB. -> 431.
  size_t max_head_bytes = 16 * 1024;
  // Real clients send ~10-25 headers; 64 leaves room and caps the per-request scan. -> 431.
  // Clamped to kMaxHeadersHard, the size of Request::headers.
  size_t max_headers = 64;
  // Request line including its CRLF; our paths are short, 8 KiB matches common proxies. -> 414.
  size_t max_request_line = 8 * 1024;
  // One header line including its CRLF; a long cookie or JWT fits comfortably. -> 431.
  size_t max_header_line = 8 * 1024;
  // Largest Content-Length (and chunked body) accepted; API publishes are small JSON. -> 413.
  uint64_t max_body = 1 << 20;
  // RFC 9112 2.2 lets a recipient accept a bare LF as a line end; hand-typed nc sessions need it.
  bool allow_bare_lf = true;
};

// Why a request (or a chunked body) was rejected. status_for() gives the HTTP status.
enum class ParseError : uint8_t {
  kNone,                         // no error
  kBadRequest,                   // malformed request line: method, spacing or version syntax
  kBadTarget,                    // request-target not origin-, absolute- or '*'-form, bad byte
  kBadHeader,                    // field line without ':', bad name, space before ':', CTL
  kObsFold,                      // line starting with SP/HTAB (obsolete folding), RFC 9112 5.2
  kBadLineEnding,                // CR not followed by LF, or bare LF when not allowed
  kUriTooLong,                   // request line longer than Limits::max_request_line (414)
  kHeadTooLarge,                 // head longer than Limits::max_head_bytes (431)
  kTooManyHeaders,               // more than Limits::max_headers field lines (431)
  kHeaderLineTooLong,            // one field line longer than Limits::max_header_line (431)
  kVersionNotSupported,          // well-formed HTTP/x.y other than 1.0 and 1.1 (505)
  kBodyTooLarge,                 // Content-Length or chunked body above Limits::max_body (413)
  kBadContentLength,             // not all digits, overflow, or duplicates that differ
  kBadTransferEncoding,          // chunked not final or repeated, empty list, TE in HTTP/1.0
  kUnsupportedTransferEncoding,  // a coding other than chunked, e.g. gzip (501)
  kLengthConflict,               // Transfer-Encoding and Content-Length together (smuggling)
  kMissingHost,                  // HTTP/1.1 request without Host, RFC 9112 3.2
  kBadHost,                      // more than one Host, or a byte not allowed in a host
  kBadChunk,                     // chunked body framing: bad size, overflow, missing CRLF
  kTrailerTooLarge,              // chunked trailer section above its bound (431)
};

// HTTP status for an error: 400, 413, 414, 431, 501 or 505 (kNone -> 200).
int status_for(ParseError error);
// Short human text for the error body, e.g. "request header fields too large".
std::string_view describe(ParseError error);

// Parses one request head at a time. Owned by one connection; Thread: the connection's loop.
class RequestParser {
 public:
  enum class Status : uint8_t { kNeedMore, kComplete, kError };

  explicit RequestParser(const Limits& limits);

  // `input` holds all bytes received for this request so far; the caller appends and calls
  // again with the longer buffer (same start; it may have moved in memory). Already scanned
  // bytes are not looked at again, so the calls cost O(total bytes). kComplete fills `out`
  // (views into `input`, out.head_size = bytes of the head; body bytes follow). kError: see
  // error(). Both results are sticky until reset().
  Status parse(std::string_view input, Request& out);
  ParseError error() const { return error_; }
  // Prepares for the next request on a keep-alive connection; `input` then starts after the
  // previous request's head and body.
  void reset();

 private:
  enum class Phase : uint8_t { kStart, kHeaders, kDone, kFailed };
  // Offsets, not views: the caller's buffer may move between calls.
  struct Span {
    uint32_t off = 0;
    uint32_t len = 0;
  };

  Status fail(ParseError error);
  // The limit that, had the bytes come one at a time, would have fired first while the current
  // line was still unterminated. Keeps the result independent of how the input was chunked.
  ParseError limit_hit(bool line_complete, size_t line_end, size_t avail) const;
  ParseError on_request_line(std::string_view input, size_t begin, size_t end);
  ParseError on_absolute_target(std::string_view input, size_t begin, size_t end);
  ParseError on_header_line(std::string_view input, size_t begin, size_t end);
  ParseError on_transfer_encoding(std::string_view value);
  void on_connection(std::string_view value);
  ParseError on_head_end() const;
  void fill(std::string_view input, Request& out) const;

  Limits limits_;
  Phase phase_ = Phase::kStart;
  ParseError error_ = ParseError::kNone;
  size_t line_start_ = 0;  // first byte of the line being scanned
  size_t scan_ = 0;        // no LF in [line_start_, scan_)
  size_t head_size_ = 0;

  Method method_ = Method::kOther;
  uint8_t version_minor_ = 1;
  bool root_path_ = false;  // absolute-form without a path: path is "/"
  Span method_text_;
  Span target_;
  Span path_;
  Span query_;
  size_t header_count_ = 0;
  Span names_[kMaxHeadersHard];
  Span values_[kMaxHeadersHard];

  // Framing and connection facts gathered while the field lines go by.
  bool has_content_length_ = false;
  uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  bool te_last_chunked_ = false;
  bool te_other_coding_ = false;
  uint8_t te_chunked_count_ = 0;
  uint8_t host_count_ = 0;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool conn_upgrade_ = false;
};

}  // namespace herald::http
