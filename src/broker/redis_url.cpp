#include "broker/redis_url.h"

#include "http/url.h"

namespace herald::broker {
namespace {

bool parse_number(std::string_view s, long max, long& value) {
  if (s.empty() || s.size() > 6) {
    return false;
  }
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  return value <= max;
}

}  // namespace

std::string RedisUrl::address() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisUrl> parse_redis_url(std::string_view url) {
  const std::string_view kScheme = "redis://";
  const std::string_view kTlsScheme = "rediss://";
  RedisUrl out;
  std::string_view rest;
  if (url.substr(0, kScheme.size()) == kScheme) {
    rest = url.substr(kScheme.size());
  } else if (url.substr(0, kTlsScheme.size()) == kTlsScheme) {
    rest = url.substr(kTlsScheme.size());
    out.tls = true;
  } else {
    return Error{
        "redis_url must start with redis:// or rediss:// (TLS): "
        "redis://[user:pass@]host:port/db"};
  }
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = credentials.find(':');
    std::string_view user =
        colon == std::string_view::npos ? std::string_view{} : credentials.substr(0, colon);
    std::string_view pass =
        colon == std::string_view::npos ? credentials : credentials.substr(colon + 1);
    // Userinfo is percent-encoded (RFC 3986 3.2.1); '+' is a plus there, not a space.
    out.user.clear();
    out.password.clear();
    if (!http::percent_decode(user, out.user) || !http::percent_decode(pass, out.password)) {
      return Error{"redis_url: bad percent-encoding in the user or password"};
    }
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    long n = 0;
    if (!db.empty() && !parse_number(db, 1 << 20, n)) {
      return Error{"redis_url: the database after '/' must be a number"};
    }
    out.db = static_cast<int>(n);
  }
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Error{"redis_url: unclosed '[' in the host"};
    }
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Error{"redis_url: expected ':' after the IPv6 host"};
      }
      port = after.substr(1);
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty()) {
    return Error{"redis_url: no host"};
  }
  out.host.assign(host);
  if (!port.empty()) {
    long n = 0;
    if (!parse_number(port, 65535, n) || n == 0) {
      return Error{"redis_url: the port must be 1-65535"};
    }
    out.port = static_cast<uint16_t>(n);
  }
  return out;
}

std::vector<std::string> split_redis_urls(std::string_view list) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < list.size()) {
    size_t end = list.find_first_of(" ,\t", i);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    if (end > i) {
      out.emplace_back(list.substr(i, end - i));
    }
    i = end + 1;
  }
  return out;
}

}  // namespace herald::broker
