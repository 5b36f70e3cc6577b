#pragma once
// Helpers shared by the client tests: server-side (unmasked) frame builders and chunked feeding.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace herald::client::test {

// An unmasked server frame.
inline std::string server_frame(uint8_t first_byte, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    f.push_back(126);
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(127);
    for (int i = 7; i >= 0; --i) {
      f.push_back(static_cast<char>((static_cast<uint64_t>(payload.size()) >> (8 * i)) & 0xFF));
    }
  }
  return f + payload;
}

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) {
    s.push_back(static_cast<char>(b));
  }
  return s;
}

// Splits input into: the whole, one byte at a time, and random chunk sizes (fixed seed).
inline std::vector<std::vector<std::string>> chunkings(const std::string& input, uint32_t seed) {
  std::vector<std::vector<std::string>> out;
  out.push_back({input});
  std::vector<std::string> bytewise;
  for (char c : input) {
    bytewise.emplace_back(1, c);
  }
  out.push_back(bytewise);
  std::mt19937 rng(seed);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> chunks;
    size_t pos = 0;
    while (pos < input.size()) {
      size_t n = std::uniform_int_distribution<size_t>(1, 9)(rng);
      chunks.push_back(input.substr(pos, n));
      pos += n;
    }
    out.push_back(chunks);
  }
  return out;
}

}  // namespace herald::client::test
