#pragma once
// ws:// URL parsing and address resolution for the client. Only plain ws:// is supported (no
// TLS); hosts are literal IPv4/IPv6 addresses or names resolved once, up front, by resolve().

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace herald::client {

// Why a URL was refused. Every value is a user typo, never a crash.
enum class UrlError : uint8_t {
  kNone = 0,
  kUnsupportedScheme,  // not ws:// (wss:// is not implemented)
  kEmptyHost,          // ws://:80/ or ws:///x
  kBadIpv6Literal,     // '[' without a matching ']' or garbage inside
  kBadPort,            // not 1..65535 digits
  kBadCharacter,       // control characters or spaces anywhere
};
std::string_view to_string(UrlError error);

// A parsed ws:// URL. host has no brackets; path always starts with '/' and keeps the query.
struct WsUrl {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  bool ipv6_literal = false;
  // The value of the Host header: "host:port" with brackets for IPv6.
  std::string host_header() const;
};

// Parses "ws://host[:port][/path][?query]". Returns kNone and fills out on success.
UrlError parse_ws_url(std::string_view text, WsUrl& out);

// A resolved socket address ready for connect().
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family() const { return addr.ss_family; }
  bool is_loopback() const;  // 127.0.0.0/8, ::1 or ::ffff:127.x.y.z
  std::string to_string() const;
};

// Resolves the host of url (numeric addresses without DNS; "localhost" is 127.0.0.1).
// Blocking (getaddrinfo) for other names: call it once, not per connection.
Result<Endpoint> resolve(const WsUrl& url);

}  // namespace herald::client
