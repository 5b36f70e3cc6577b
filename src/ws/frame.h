#pragma once
// WebSocket frame vocabulary (RFC 6455 section 5) and the server->client frame encoder.
// Server frames are never masked, so one encoded frame can be sent to every subscriber.
// Thread: any (pure functions).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::ws {

enum class Opcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10,
};

inline bool is_control(Opcode op) {
  return (static_cast<uint8_t>(op) & 0x08) != 0;
}

// Close status codes (RFC 6455 section 7.4.1 and the IANA registry).
inline constexpr uint16_t kCloseNormal = 1000;           // purpose fulfilled
inline constexpr uint16_t kCloseGoingAway = 1001;        // server shutting down / page left
inline constexpr uint16_t kCloseProtocolError = 1002;    // peer broke the framing rules
inline constexpr uint16_t kCloseUnsupportedData = 1003;  // data type we cannot accept
inline constexpr uint16_t kCloseNoStatus = 1005;         // never sent: close frame had no code
inline constexpr uint16_t kCloseAbnormal = 1006;  // never sent: connection dropped without close
inline constexpr uint16_t kCloseInvalidPayload = 1007;      // e.g. text that is not UTF-8
inline constexpr uint16_t kClosePolicyViolation = 1008;     // generic policy refusal (auth, rate)
inline constexpr uint16_t kCloseTooBig = 1009;              // frame or message over our limits
inline constexpr uint16_t kCloseMandatoryExtension = 1010;  // client-only: extension not agreed
inline constexpr uint16_t kCloseInternalError = 1011;       // server bug or resource failure
inline constexpr uint16_t kCloseServiceRestart = 1012;      // restarting; reconnect later
inline constexpr uint16_t kCloseTryAgainLater = 1013;       // overloaded; reconnect with backoff

// True if a peer may put `code` in a close frame (RFC 6455 7.4): 1000-1003, 1007-1014 and
// 3000-4999. 1004-1006 and 1015 are reserved and must never appear on the wire.
bool is_valid_received_close_code(uint16_t code);

// Largest server frame header: 2 bytes + 8-byte extended length (no mask key).
inline constexpr size_t kMaxHeaderSize = 10;
// Control frame payloads are limited to 125 bytes, so a close reason to 123.
inline constexpr size_t kMaxControlPayload = 125;
inline constexpr size_t kMaxCloseReason = 123;

// Writes an unmasked frame header to out (at least kMaxHeaderSize bytes); returns its size.
size_t encode_header(uint8_t* out, Opcode op, uint64_t payload_len, bool fin, bool rsv1);

// Appends one complete unmasked frame (FIN set). rsv1 marks a permessage-deflate payload.
void append_frame(std::string& out, Opcode op, std::string_view payload, bool rsv1 = false);

// Appends a close frame. The reason is cut to 123 bytes without splitting a UTF-8 sequence.
// code kCloseNoStatus sends an empty close payload (what a peer's empty close is echoed with).
void append_close(std::string& out, uint16_t code, std::string_view reason);

}  // namespace herald::ws
