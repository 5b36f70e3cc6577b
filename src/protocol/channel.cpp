#include "protocol/channel.h"

#include <array>
#include <cstdint>

#include "base/ascii.h"

namespace herald::protocol {

namespace {

constexpr std::array<bool, 256> kChannelByte = alnum_and("_-.:@/=,!~#");

}  // namespace

bool is_valid_channel(std::string_view channel, size_t max_length) {
  if (channel.empty() || channel.size() > max_length || channel.front() == ':') {
    return false;
  }
  for (char c : channel) {
    if (!kChannelByte[static_cast<uint8_t>(c)]) {
      return false;
    }
  }
  return true;
}

std::string_view namespace_of(std::string_view channel) {
  size_t colon = channel.find(':');
  if (colon == std::string_view::npos) {
    return {};
  }
  return channel.substr(0, colon);
}

bool is_user_limited(std::string_view channel) {
  return channel.find(kUserBoundary) != std::string_view::npos;
}

bool user_allowed(std::string_view channel, std::string_view user) {
  size_t boundary = channel.rfind(kUserBoundary);
  if (boundary == std::string_view::npos) {
    return true;
  }
  if (user.empty()) {
    return false;
  }
  std::string_view users = channel.substr(boundary + 1);
  while (true) {
    size_t comma = users.find(kUserSeparator);
    if (users.substr(0, comma) == user) {
      return true;
    }
    if (comma == std::string_view::npos) {
      return false;
    }
    users.remove_prefix(comma + 1);
  }
}

bool channel_matches(std::string_view pattern, std::string_view channel) {
  if (pattern.empty()) {
    return true;
  }
  // Classic greedy wildcard match: on a mismatch, retry from the last '*' one byte further.
  size_t p = 0;
  size_t c = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (c < channel.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = c;
    } else if (p < pattern.size() && pattern[p] == channel[c]) {
      ++p;
      ++c;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      c = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

}  // namespace herald::protocol
