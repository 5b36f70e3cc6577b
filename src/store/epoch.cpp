#include "store/epoch.h"

#include <random>

namespace herald::store {

namespace {

std::string to_hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

// splitmix64's finalizer: spreads every input bit over the output.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t random_u64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string random_epoch(std::string_view previous) {
  for (;;) {
    std::string e = to_hex(random_u64());
    if (e != previous) {
      return e;
    }
  }
}

std::string derived_epoch(std::string_view channel, uint64_t salt) {
  uint64_t h = 0xcbf29ce484222325ULL ^ salt;  // FNV-1a, seeded with the salt
  for (char c : channel) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return to_hex(mix(h ^ salt));
}

}  // namespace herald::store
