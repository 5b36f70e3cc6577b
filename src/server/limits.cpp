#include "server/limits.h"

#include <algorithm>
#include <functional>

namespace herald::server {
namespace {

double burst_of(double rate) { return std::max(1.0, rate * 2); }

}  // namespace

bool TokenBucket::take(uint64_t now_ms) {
  if (rate_ <= 0) {
    return true;
  }
  if (now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
    last_ms_ = now_ms;
  }
  if (tokens_ < 1) {
    return false;
  }
  tokens_ -= 1;
  return true;
}

bool TokenBucket::full(uint64_t now_ms) const {
  if (rate_ <= 0) {
    return true;
  }
  double elapsed = now_ms > last_ms_ ? static_cast<double>(now_ms - last_ms_) / 1000.0 : 0;
  return tokens_ + rate_ * elapsed >= burst_;
}

size_t SharedLimits::IpHash::operator()(const Ip& ip) const {
  return std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(ip.data()), ip.size()));
}

SharedLimits::Admit SharedLimits::admit_ip(const Ip& ip, uint64_t now_ms) {
  IpStripe& stripe = ips_[IpHash{}(ip) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  if (stripe.map.size() >= kSweepAt) {
    std::erase_if(stripe.map,
                  [now_ms](const auto& e) { return e.second.open == 0 && e.second.rate.full(now_ms); });
  }
  auto [it, fresh] = stripe.map.try_emplace(ip);
  IpState& s = it->second;
  if (fresh) {
    s.rate = TokenBucket(options_.connection_rate_per_ip,
                         burst_of(options_.connection_rate_per_ip));
  }
  if (options_.connections_per_ip > 0 && s.open >= options_.connections_per_ip) {
    return Admit::kTooMany;
  }
  if (!s.rate.take(now_ms)) {
    return Admit::kTooFast;
  }
  ++s.open;
  return Admit::kOk;
}

void SharedLimits::release_ip(const Ip& ip) {
  IpStripe& stripe = ips_[IpHash{}(ip) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  auto it = stripe.map.find(ip);
  if (it != stripe.map.end() && it->second.open > 0) {
    --it->second.open;
  }
}

bool SharedLimits::admit_user(std::string_view user) {
  if (options_.connections_per_user == 0) {
    return true;
  }
  UserStripe& stripe = users_[std::hash<std::string_view>{}(user) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  UserState& s = stripe.map.try_emplace(std::string(user)).first->second;
  if (s.open >= options_.connections_per_user) {
    return false;
  }
  ++s.open;
  return true;
}

void SharedLimits::release_user(std::string_view user) {
  if (options_.connections_per_user == 0) {
    return;
  }
  UserStripe& stripe = users_[std::hash<std::string_view>{}(user) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  auto it = stripe.map.find(user);
  if (it == stripe.map.end()) {
    return;
  }
  if (it->second.open > 0) {
    --it->second.open;
  }
  if (it->second.open == 0 && !it->second.publishes.enabled()) {
    stripe.map.erase(it);
  }
}

bool SharedLimits::charge_publish(std::string_view user, uint64_t now_ms) {
  if (options_.publish_rate_per_user <= 0) {
    return true;
  }
  UserStripe& stripe = users_[std::hash<std::string_view>{}(user) % kStripes];
  std::lock_guard<std::mutex> lock(stripe.mutex);
  if (stripe.map.size() >= kSweepAt) {
    std::erase_if(stripe.map, [now_ms](const auto& e) {
      return e.second.open == 0 && e.second.publishes.full(now_ms);
    });
  }
  auto [it, fresh] = stripe.map.try_emplace(std::string(user));
  if (fresh || !it->second.publishes.enabled()) {
    it->second.publishes = TokenBucket(options_.publish_rate_per_user,
                                       burst_of(options_.publish_rate_per_user));
  }
  return it->second.publishes.take(now_ms);
}

bool SharedLimits::charge_api(uint64_t now_ms) {
  if (options_.api_rate <= 0) {
    return true;
  }
  std::lock_guard<std::mutex> lock(api_mutex_);
  return api_.take(now_ms);
}

}  // namespace herald::server
