#pragma once
// RedisUrl: where a Redis is and how to log in, from `redis://[user:pass@]host:port/db`, or
// `rediss://...` for TLS (the CA, client certificate and key are settings of their own:
// redis_tls_ca, redis_tls_cert, redis_tls_key).
// Thread: any (a value).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace herald::broker {

struct RedisUrl {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;      // ACL user (Redis 6+); empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECT db after connecting (0: none sent)
  bool tls = false;      // rediss://: TLS, the server's certificate verified for `host`

  // host:port, for logs (never the password).
  std::string address() const;
};

// Parses redis[s]://[[user]:password@]host[:port][/db]. The user and password may be
// percent-encoded; an IPv6 host is written in brackets.
Result<RedisUrl> parse_redis_url(std::string_view url);

// The URLs of a list separated by spaces or commas (several Redis shards), in order.
std::vector<std::string> split_redis_urls(std::string_view list);

}  // namespace herald::broker
