#include "herald/client/url.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace herald::client {

std::string_view to_string(UrlError error) {
  switch (error) {
    case UrlError::kNone:
      return "ok";
    case UrlError::kUnsupportedScheme:
      return "unsupported scheme";
    case UrlError::kEmptyHost:
      return "the URL has no host";
    case UrlError::kBadIpv6Literal:
      return "malformed [IPv6] host";
    case UrlError::kBadPort:
      return "port must be 1..65535";
    case UrlError::kBadCharacter:
      return "the URL contains spaces or control characters";
    case UrlError::kMissingPort:
      return "tcp:// and tls:// need a port";
    case UrlError::kUnexpectedPath:
      return "tcp:// and tls:// take no path";
  }
  return "unknown URL error";
}

std::string_view to_string(Scheme scheme) {
  switch (scheme) {
    case Scheme::kWs:
      return "ws";
    case Scheme::kWss:
      return "wss";
    case Scheme::kTcp:
      return "tcp";
    case Scheme::kTls:
      return "tls";
  }
  return "?";
}

std::string ServerUrl::host_header() const {
  // append() rather than operator+: GCC 12 -O3 reports a false -Wrestrict on "[" + host.
  std::string out;
  out.reserve(host.size() + 8);
  if (ipv6_literal) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

namespace {

// Strips a case-insensitive "scheme://" prefix; false when text does not start with it.
bool strip_scheme(std::string_view& text, std::string_view scheme) {
  if (text.size() < scheme.size() + 3) {
    return false;
  }
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != scheme[i]) {
      return false;
    }
  }
  if (text.substr(scheme.size(), 3) != "://") {
    return false;
  }
  text.remove_prefix(scheme.size() + 3);
  return true;
}

UrlError parse(std::string_view text, bool any_scheme, ServerUrl& out) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return UrlError::kBadCharacter;
    }
  }
  ServerUrl url;
  std::string_view rest = text;
  if (strip_scheme(rest, "ws")) {
    url.scheme = Scheme::kWs;
    url.port = 80;
  } else if (strip_scheme(rest, "wss")) {
    url.scheme = Scheme::kWss;
    url.port = 443;
  } else if (any_scheme && strip_scheme(rest, "tcp")) {
    url.scheme = Scheme::kTcp;
    url.port = 0;
  } else if (any_scheme && strip_scheme(rest, "tls")) {
    url.scheme = Scheme::kTls;
    url.port = 0;
  } else {
    return UrlError::kUnsupportedScheme;
  }
  size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) {
      return UrlError::kBadIpv6Literal;
    }
    url.host = std::string(authority.substr(1, close - 1));
    url.ipv6_literal = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return UrlError::kBadIpv6Literal;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        return UrlError::kBadPort;
      }
    }
    in6_addr probe{};
    if (inet_pton(AF_INET6, url.host.c_str(), &probe) != 1) {
      return UrlError::kBadIpv6Literal;
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      if (port_text.empty()) {
        return UrlError::kBadPort;
      }
    }
    if (authority.empty()) {
      return UrlError::kEmptyHost;
    }
    if (authority.find_first_of("[]@") != std::string_view::npos) {
      return UrlError::kBadCharacter;
    }
    url.host = std::string(authority);
  }
  if (url.host.empty()) {
    return UrlError::kEmptyHost;
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5) {
      return UrlError::kBadPort;
    }
    uint32_t port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') {
        return UrlError::kBadPort;
      }
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return UrlError::kBadPort;
    }
    url.port = static_cast<uint16_t>(port);
  }
  if (!url.websocket()) {
    if (url.port == 0) {
      return UrlError::kMissingPort;
    }
    if (!path.empty() && path != "/") {
      return UrlError::kUnexpectedPath;
    }
    path = "/";
  }
  url.path.clear();
  if (path.empty() || path.front() == '?') {
    url.path.push_back('/');
  }
  url.path.append(path);
  out = std::move(url);
  return UrlError::kNone;
}

}  // namespace

UrlError parse_ws_url(std::string_view text, ServerUrl& out) {
  return parse(text, false, out);
}

UrlError parse_server_url(std::string_view text, ServerUrl& out) {
  return parse(text, true, out);
}

bool Endpoint::is_loopback() const {
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
      return true;
    }
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      return in6->sin6_addr.s6_addr[12] == 127;
    }
  }
  return false;
}

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    std::string out(text);
    out.append(":").append(std::to_string(ntohs(in->sin_port)));
    return out;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
  std::string out("[");
  out.append(text).append("]:").append(std::to_string(ntohs(in6->sin6_port)));
  return out;
}

Result<Endpoint> resolve(const ServerUrl& url) {
  Endpoint ep;
  std::string host = url.host;
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  sockaddr_in in{};
  if (inet_pton(AF_INET, host.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(url.port);
    std::memcpy(&ep.addr, &in, sizeof(in));
    ep.len = sizeof(in);
    return ep;
  }
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(url.port);
    std::memcpy(&ep.addr, &in6, sizeof(in6));
    ep.len = sizeof(in6);
    return ep;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Error{"cannot resolve " + host + ": " + gai_strerror(rc)};
  }
  std::memcpy(&ep.addr, found->ai_addr, found->ai_addrlen);
  ep.len = found->ai_addrlen;
  freeaddrinfo(found);
  if (ep.addr.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&ep.addr)->sin_port = htons(url.port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&ep.addr)->sin6_port = htons(url.port);
  }
  return ep;
}

}  // namespace herald::client
