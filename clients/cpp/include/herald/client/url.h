#pragma once
// Server URL parsing and address resolution for the client: ws:// and wss:// (a WebSocket, plain
// or over TLS), tcp:// and tls:// (the Herald protocol as lines on the server's raw TCP port,
// plain or over TLS). Hosts are literal IPv4/IPv6 addresses or names resolved once, up front,
// by resolve().

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
  kUnsupportedScheme,  // not one of the schemes the function takes
  kEmptyHost,          // ws://:80/ or ws:///x
  kBadIpv6Literal,     // '[' without a matching ']' or garbage inside
  kBadPort,            // not 1..65535 digits
  kBadCharacter,       // control characters or spaces anywhere
  kMissingPort,        // tcp:// and tls:// have no default port
  kUnexpectedPath,     // tcp:// and tls:// take no path
};
std::string_view to_string(UrlError error);

enum class Scheme : uint8_t { kWs, kWss, kTcp, kTls };
std::string_view to_string(Scheme scheme);  // "ws", "wss", "tcp", "tls"

// A parsed server URL. host has no brackets; path always starts with '/' and keeps the query
// ("/" for tcp:// and tls://).
struct ServerUrl {
  Scheme scheme = Scheme::kWs;
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  bool ipv6_literal = false;
  bool tls() const { return scheme == Scheme::kWss || scheme == Scheme::kTls; }
  bool websocket() const { return scheme == Scheme::kWs || scheme == Scheme::kWss; }
  // The value of the Host header: "host:port" with brackets for IPv6.
  std::string host_header() const;
};

// Parses "ws[s]://host[:port][/path][?query]" (ports 80 and 443 by default). Returns kNone and
// fills out on success; out is left alone on error.
UrlError parse_ws_url(std::string_view text, ServerUrl& out);
// Parses a ws:// or wss:// URL as above, or "tcp://host:port" / "tls://host:port" (the port is
// required; a trailing '/' is allowed, nothing else after it).
UrlError parse_server_url(std::string_view text, ServerUrl& out);

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
Result<Endpoint> resolve(const ServerUrl& url);

}  // namespace herald::client
