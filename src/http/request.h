#pragma once
// http::Request: the parsed head of one HTTP/1.1 request. Every string_view points into the
// connection's input buffer and is valid only until that buffer is consumed or moved.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::http {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };

struct Header {
  std::string_view name;   // as sent; compare case-insensitively
  std::string_view value;  // leading and trailing whitespace removed
};

// Upper bound on headers kept per request; more is a 431 (see Limits::max_headers).
inline constexpr size_t kMaxHeadersHard = 100;

struct Request {
  Method method = Method::kOther;
  std::string_view method_text;  // e.g. "GET"
  std::string_view target;       // request-target as sent, e.g. "/chat?room=1"
  std::string_view path;         // target up to '?'
  std::string_view query;        // after '?', without it; empty if none
  uint8_t version_minor = 1;     // HTTP/1.<minor>; only 1.0 and 1.1 are accepted
  Header headers[kMaxHeadersHard];
  size_t header_count = 0;

  // Derived while parsing, so the server does not rescan headers.
  bool keep_alive = true;  // 1.1 default, "Connection: close" / 1.0 rules applied
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool chunked = false;             // Transfer-Encoding: chunked (final coding)
  bool connection_upgrade = false;  // "upgrade" token present in Connection
  size_t head_size = 0;             // bytes of the head including the final CRLFCRLF

  // Case-insensitive lookup of the first header with this name; empty view if absent.
  std::string_view header(std::string_view name) const;
  // True if a comma-separated header (e.g. Connection) contains token, case-insensitively.
  bool header_has_token(std::string_view name, std::string_view token) const;
};

}  // namespace herald::http
