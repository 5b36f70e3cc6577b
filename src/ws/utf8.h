#pragma once
// Incremental UTF-8 validation for WebSocket text messages (RFC 6455 8.1, RFC 3629).
// A DFA rejects on the first byte that makes the input invalid (overlong forms, UTF-16
// surrogates, code points above U+10FFFF, stray continuation bytes), so a fragmented text
// message can be failed before its remaining frames arrive. Pure ASCII runs are skipped
// eight bytes at a time.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::ws {

// Validator state for one text message, fed piece by piece; 4 bytes.
// Owned by the Receiver of one connection. Thread: owning loop only.
class Utf8Validator {
 public:
  // Validates the next bytes. Returns false from the first invalid byte on, and keeps
  // returning false until reset().
  bool feed(const uint8_t* data, size_t size);
  // True if every byte fed so far forms complete characters (no sequence cut at the end).
  bool complete() const { return state_ == kAccept; }
  bool failed() const { return state_ == kReject; }
  void reset() { state_ = kAccept; }

  // DFA states are premultiplied by the number of byte classes (see utf8.cpp).
  static constexpr uint32_t kAccept = 0;
  static constexpr uint32_t kReject = 12;

 private:
  uint32_t state_ = kAccept;
};

// One-shot check of a complete text.
bool is_valid_utf8(std::string_view text);

}  // namespace herald::ws
