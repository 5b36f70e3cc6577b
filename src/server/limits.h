#pragma once
// Limits that span every loop, taken where a connection is admitted or a rate is charged, never
// per message delivered: connections per IP address and the rate of new ones, connections per
// user, client publishes per second per user, and server API requests per second. Each is off
// at 0 (see docs/herald.example.yaml for the reasons behind each default). Per-connection limits
// (commands per second) live with the connection's session instead and need no sharing.
// Thread: any (striped mutexes; a stripe is held for a map lookup, never across a callback).

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/string_hash.h"

namespace herald::server {

// A token bucket: `rate` tokens a second, at most `burst`. Starts full. Thread: its owner's.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes one token if there is one (refilling for the time since the last call).
  bool take(uint64_t now_ms);
  bool full(uint64_t now_ms) const;
  bool enabled() const { return rate_ > 0; }

 private:
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  uint64_t last_ms_ = 0;
};

struct LimitOptions {
  size_t connections_per_ip = 0;
  double connection_rate_per_ip = 0;  // new connections a second (burst: twice that, at least 1)
  size_t connections_per_user = 0;
  double publish_rate_per_user = 0;   // client publishes a second (burst: twice that)
  double api_rate = 0;                // server API requests a second over all keys
};

class SharedLimits {
 public:
  using Ip = std::array<uint8_t, 16>;  // IPv6, or IPv4-mapped
  enum class Admit : uint8_t { kOk, kTooMany, kTooFast };

  explicit SharedLimits(LimitOptions options = {}) : options_(options) {}

  bool checks_ips() const {
    return options_.connections_per_ip > 0 || options_.connection_rate_per_ip > 0;
  }
  // A new connection from ip; when kOk it counts until release_ip.
  Admit admit_ip(const Ip& ip, uint64_t now_ms);
  void release_ip(const Ip& ip);

  // A connect as user (non-empty); when true it counts until release_user.
  bool admit_user(std::string_view user);
  void release_user(std::string_view user);

  // Charges one client publish to user (anonymous clients: pass their client id).
  bool charge_publish(std::string_view user, uint64_t now_ms);
  // Charges one server API request.
  bool charge_api(uint64_t now_ms);

  const LimitOptions& options() const { return options_; }

 private:
  static constexpr size_t kStripes = 16;
  struct IpState {
    size_t open = 0;
    TokenBucket rate;
  };
  struct UserState {
    size_t open = 0;
    TokenBucket publishes;
  };
  struct IpHash {
    size_t operator()(const Ip& ip) const;
  };
  struct IpStripe {
    std::mutex mutex;
    std::unordered_map<Ip, IpState, IpHash> map;
  };
  struct UserStripe {
    std::mutex mutex;
    std::unordered_map<std::string, UserState, StringHash, std::equal_to<>> map;
  };
  // Entries with nothing open and a full bucket carry no information: dropped when a stripe
  // grows past this, so an address scan cannot grow the maps without bound.
  static constexpr size_t kSweepAt = 4096;

  LimitOptions options_;
  std::array<IpStripe, kStripes> ips_;
  std::array<UserStripe, kStripes> users_;
  std::mutex api_mutex_;
  TokenBucket api_{options_.api_rate, options_.api_rate * 2 < 1 ? 1 : options_.api_rate * 2};
};

}  // namespace herald::server
