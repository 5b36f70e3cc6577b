#pragma once
// Helpers shared by the ws unit tests: building masked client frames and driving a Receiver
// the way the event loop does (keeping unconsumed bytes at the front of the next read).

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws/receiver.h"

namespace herald::ws::testing {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) {
    s.push_back(static_cast<char>(b));
  }
  return s;
}

struct FrameSpec {
  int b0 = 0x81;  // FIN + RSV + opcode byte as sent
  std::string payload;
  bool masked = true;
  uint32_t mask = 0x37FA213D;
  int length_form = 0;        // 0 minimal, 126 / 127 force the 16 / 64-bit length form
  uint64_t declared = ~0ULL;  // length to declare instead of payload.size()
};

// Encodes a client->server frame.
inline std::string client_frame(const FrameSpec& f) {
  std::string out;
  out.push_back(static_cast<char>(f.b0));
  uint64_t len = f.declared != ~0ULL ? f.declared : f.payload.size();
  uint8_t mbit = f.masked ? 0x80 : 0;
  int form = f.length_form;
  if (form == 0) {
    form = len < 126 ? 0 : (len <= 0xFFFF ? 126 : 127);
  }
  if (form == 0) {
    out.push_back(static_cast<char>(mbit | len));
  } else if (form == 126) {
    out.push_back(static_cast<char>(mbit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len));
  } else {
    out.push_back(static_cast<char>(mbit | 127));
    for (int i = 7; i >= 0; --i) {
      out.push_back(static_cast<char>(len >> (8 * i)));
    }
  }
  uint8_t key[4] = {static_cast<uint8_t>(f.mask >> 24), static_cast<uint8_t>(f.mask >> 16),
                    static_cast<uint8_t>(f.mask >> 8), static_cast<uint8_t>(f.mask)};
  if (f.masked) {
    out.append(reinterpret_cast<const char*>(key), 4);
  }
  for (size_t i = 0; i < f.payload.size(); ++i) {
    char c = f.payload[i];
    out.push_back(f.masked ? static_cast<char>(c ^ key[i & 3]) : c);
  }
  return out;
}

inline std::string frame(int b0, std::string_view payload) {
  FrameSpec f;
  f.b0 = b0;
  f.payload = std::string(payload);
  return client_frame(f);
}

// Everything the Receiver reported, flattened to comparable strings.
class Recorder : public Receiver::Events {
 public:
  void on_message(Opcode op, std::string_view payload) override {
    events.push_back((op == Opcode::kText ? "text:" : "binary:") + std::string(payload));
  }
  void on_ping(std::string_view payload) override {
    events.push_back("ping:" + std::string(payload));
  }
  void on_pong(std::string_view payload) override {
    events.push_back("pong:" + std::string(payload));
  }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  std::vector<std::string> events;
};

enum class FeedMode { kWhole, kBytewise, kRandom };

inline const char* mode_name(FeedMode m) {
  return m == FeedMode::kWhole ? "whole" : (m == FeedMode::kBytewise ? "bytewise" : "random");
}

struct FeedResult {
  std::vector<std::string> events;
  ReceiveError error = ReceiveError::kNone;
  bool closed = false;
  size_t max_kept = 0;  // largest unconsumed remainder the caller had to keep
};

// Feeds input in pieces like a socket would, and returns what came out.
inline FeedResult feed(Receiver& r, std::string_view input, FeedMode mode, uint32_t seed = 1) {
  FeedResult res;
  Recorder rec;
  std::mt19937 rng(seed);
  std::string pending;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t k = input.size() - pos;
    if (mode == FeedMode::kBytewise) {
      k = 1;
    } else if (mode == FeedMode::kRandom) {
      k = std::min<size_t>(k, 1 + rng() % 40);
    }
    pending.append(input.substr(pos, k));
    pos += k;
    size_t used = r.consume(reinterpret_cast<uint8_t*>(pending.data()), pending.size(), rec);
    if (r.error() != ReceiveError::kNone || r.closed()) {
      break;
    }
    pending.erase(0, used);
    res.max_kept = std::max(res.max_kept, pending.size());
  }
  res.events = rec.events;
  res.error = r.error();
  res.closed = r.closed();
  return res;
}

}  // namespace herald::ws::testing
