#include "ws/frame.h"

namespace herald::ws {

bool is_valid_received_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) {
    return true;  // registered (3xxx) and private-use (4xxx) codes
  }
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

size_t encode_header(uint8_t* out, Opcode op, uint64_t payload_len, bool fin, bool rsv1) {
  out[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(op));
  if (payload_len < 126) {
    out[1] = static_cast<uint8_t>(payload_len);
    return 2;
  }
  if (payload_len <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_len >> 8);
    out[3] = static_cast<uint8_t>(payload_len);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
  }
  return 10;
}

void append_frame(std::string& out, Opcode op, std::string_view payload, bool rsv1) {
  uint8_t header[kMaxHeaderSize];
  size_t n = encode_header(header, op, payload.size(), true, rsv1);
  out.reserve(out.size() + n + payload.size());
  out.append(reinterpret_cast<const char*>(header), n);
  out.append(payload);
}

void append_close(std::string& out, uint16_t code, std::string_view reason) {
  if (code == kCloseNoStatus) {
    append_frame(out, Opcode::kClose, {});
    return;
  }
  if (reason.size() > kMaxCloseReason) {
    size_t cut = kMaxCloseReason;
    // Back off over continuation bytes (10xxxxxx) so the cut lands on a character start.
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    reason = reason.substr(0, cut);
  }
  char payload[kMaxControlPayload];
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  reason.copy(payload + 2, reason.size());
  append_frame(out, Opcode::kClose, std::string_view(payload, 2 + reason.size()));
}

}  // namespace herald::ws
