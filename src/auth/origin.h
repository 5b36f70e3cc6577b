#pragma once
// OriginPolicy: which web pages may open a browser transport (a WebSocket upgrade, an SSE
// stream, a long-poll session): the defence against cross-site WebSocket hijacking, where a page
// on another site opens a connection with the user's cookies. A browser always sends Origin on
// these requests; a request without one is not from a browser page and is let through (it could
// claim any origin anyway). The server's own pages (Origin equal to the request's Host) are
// always allowed.
//
// Patterns, matched case-insensitively against the whole Origin:
//   "*"                          any origin (no check)
//   "https://app.example.com"    exactly that scheme, host and port
//   "https://*.example.com"      any subdomain (one or more labels), not example.com itself
//   "http://localhost:*"         any port
//   "null"                       file:// pages and sandboxed frames
// An empty list allows every origin (the embedded default; the server warns when it listens
// beyond loopback). Immutable after construction. Thread: any.

#include <string>
#include <string_view>
#include <vector>

namespace herald::auth {

class OriginPolicy {
 public:
  OriginPolicy() = default;
  explicit OriginPolicy(std::vector<std::string> patterns);

  // False when a pattern cannot match any origin; `why` names it.
  static bool valid_pattern(std::string_view pattern, std::string* why);

  // origin: the Origin header ("" when absent); host: the Host header.
  bool allows(std::string_view origin, std::string_view host) const;
  bool checks() const { return !patterns_.empty() && !any_; }

 private:
  std::vector<std::string> patterns_;
  bool any_ = false;
};

}  // namespace herald::auth
