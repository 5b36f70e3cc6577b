#include "ws/utf8.h"

#include <array>
#include <cstring>

namespace herald::ws {
namespace {

// Byte classes: bytes that behave the same in every state share a class.
enum Class : uint8_t {
  kAscii = 0,    // 00-7F
  kCont80 = 1,   // 80-8F continuation
  kCont90 = 2,   // 90-9F continuation
  kContA0 = 3,   // A0-BF continuation
  kInvalid = 4,  // C0-C1 (always overlong), F5-FF (beyond U+10FFFF)
  kLead2 = 5,    // C2-DF
  kLeadE0 = 6,   // E0: second byte A0-BF, else overlong
  kLead3 = 7,    // E1-EC, EE-EF
  kLeadED = 8,   // ED: second byte 80-9F, else a surrogate
  kLeadF0 = 9,   // F0: second byte 90-BF, else overlong
  kLead4 = 10,   // F1-F3
  kLeadF4 = 11,  // F4: second byte 80-8F, else above U+10FFFF
};
constexpr int kClassCount = 12;

// States, in units of kClassCount so that state + class indexes the transition table.
enum State : uint8_t {
  kS0 = 0,  // accept: between characters
  kSReject = 1,
  kSNeed1 = 2,  // one continuation byte left
  kSNeed2 = 3,  // two left
  kSNeed3 = 4,  // three left
  kSAfterE0 = 5,
  kSAfterED = 6,
  kSAfterF0 = 7,
  kSAfterF4 = 8,
};
constexpr int kStateCount = 9;

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    uint8_t k = kInvalid;
    if (b < 0x80) {
      k = kAscii;
    } else if (b < 0x90) {
      k = kCont80;
    } else if (b < 0xA0) {
      k = kCont90;
    } else if (b < 0xC0) {
      k = kContA0;
    } else if (b < 0xC2) {
      k = kInvalid;
    } else if (b < 0xE0) {
      k = kLead2;
    } else if (b == 0xE0) {
      k = kLeadE0;
    } else if (b == 0xED) {
      k = kLeadED;
    } else if (b < 0xF0) {
      k = kLead3;
    } else if (b == 0xF0) {
      k = kLeadF0;
    } else if (b < 0xF4) {
      k = kLead4;
    } else if (b == 0xF4) {
      k = kLeadF4;
    }
    c[b] = k;
  }
  return c;
}

constexpr std::array<uint8_t, kStateCount * kClassCount> make_transitions() {
  std::array<uint8_t, kStateCount * kClassCount> t{};
  for (auto& v : t) {
    v = static_cast<uint8_t>(static_cast<int>(kSReject) * kClassCount);
  }
  auto set = [&t](State from, Class cls, State to) {
    t[static_cast<int>(from) * kClassCount + static_cast<int>(cls)] =
        static_cast<uint8_t>(static_cast<int>(to) * kClassCount);
  };
  set(kS0, kAscii, kS0);
  set(kS0, kLead2, kSNeed1);
  set(kS0, kLeadE0, kSAfterE0);
  set(kS0, kLead3, kSNeed2);
  set(kS0, kLeadED, kSAfterED);
  set(kS0, kLeadF0, kSAfterF0);
  set(kS0, kLead4, kSNeed3);
  set(kS0, kLeadF4, kSAfterF4);
  for (Class cont : {kCont80, kCont90, kContA0}) {
    set(kSNeed1, cont, kS0);
    set(kSNeed2, cont, kSNeed1);
    set(kSNeed3, cont, kSNeed2);
  }
  set(kSAfterE0, kContA0, kSNeed1);
  set(kSAfterED, kCont80, kSNeed1);
  set(kSAfterED, kCont90, kSNeed1);
  set(kSAfterF0, kCont90, kSNeed2);
  set(kSAfterF0, kContA0, kSNeed2);
  set(kSAfterF4, kCont80, kSNeed2);
  return t;
}

constexpr std::array<uint8_t, 256> kClasses = make_classes();
constexpr std::array<uint8_t, kStateCount* kClassCount> kTransitions = make_transitions();
static_assert(Utf8Validator::kReject == static_cast<int>(kSReject) * kClassCount);

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

bool Utf8Validator::feed(const uint8_t* data, size_t size) {
  uint32_t state = state_;
  if (state == kReject) {
    return false;
  }
  size_t i = 0;
  while (i < size) {
    if (state == kAccept) {
      // Between characters: skip ASCII a word (or two) at a time.
      while (i + 16 <= size && ((load64(data + i) | load64(data + i + 8)) & kHighBits) == 0) {
        i += 16;
      }
      while (i + 8 <= size && (load64(data + i) & kHighBits) == 0) {
        i += 8;
      }
      while (i < size && data[i] < 0x80) {
        ++i;
      }
      if (i == size) {
        break;
      }
    }
    state = kTransitions[state + kClasses[data[i]]];
    if (state == kReject) {
      state_ = state;
      return false;
    }
    ++i;
  }
  state_ = state;
  return true;
}

bool is_valid_utf8(std::string_view text) {
  Utf8Validator v;
  return v.feed(reinterpret_cast<const uint8_t*>(text.data()), text.size()) && v.complete();
}

}  // namespace herald::ws
