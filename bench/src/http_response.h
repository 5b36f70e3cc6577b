#pragma once
// An HTTP/1.1 response parser for the generator's HTTP clients (the server API, long-polling,
// the head of an SSE stream): status line, headers and a Content-Length body, read from the
// front of a buffer that may hold a partial response or several pipelined ones. The server's
// answers are untrusted input: anything malformed is an HttpError, never a crash, and every
// size is capped.
// Thread: stateless functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::bench {

enum class HttpError : uint8_t {
  kNone = 0,
  kHeadTooLarge,       // no blank line within kMaxResponseHead bytes
  kBadStatusLine,      // not "HTTP/1.x NNN reason"
  kBadHeader,          // a header line without ':' or with a control byte
  kNoLength,           // a body-carrying status without Content-Length
  kBadLength,          // Content-Length not a number, or two different ones
  kBodyTooLarge,       // Content-Length over kMaxResponseBody
  kUnsupportedCoding,  // Transfer-Encoding (the server API answers with Content-Length)
};
std::string_view to_string(HttpError error);

constexpr size_t kMaxResponseHead = 16 * 1024;
constexpr size_t kMaxResponseBody = 64u << 20;

// A response head; the views point into the parsed buffer.
struct HttpHead {
  int status = 0;
  std::string_view headers;  // the header lines after the status line, each ending in CRLF
  bool close = false;        // "Connection: close": no further response on this connection
  bool has_length = false;   // Content-Length was given (length)
  size_t length = 0;
};

// Parses the head at the front of in (through its blank line). Returns the head's size and
// fills *out; returns 0 when in holds only part of it, or 0 with *error set when it is malformed.
// It does not require a length: an event stream's body runs until the connection closes.
size_t parse_http_head(std::string_view in, HttpHead* out, HttpError* error);

// The value of the first header called name (case-insensitive), without surrounding
// whitespace, in the header lines of a parsed head; empty when there is none.
std::string_view find_header(std::string_view headers, std::string_view name);

struct HttpResponse {
  int status = 0;
  std::string_view body;     // a view into the parsed buffer
  std::string_view headers;  // as in HttpHead
  bool close = false;        // "Connection: close": no further response on this connection
};

// Parses the response at the front of in. Returns the bytes it spans and fills *out; returns 0
// when in holds only part of it (call again with more), or 0 with *error set when it is
// malformed (the connection is then unusable).
size_t parse_http_response(std::string_view in, HttpResponse* out, HttpError* error);

}  // namespace herald::bench
