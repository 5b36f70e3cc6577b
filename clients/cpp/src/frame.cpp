#include "herald/client/frame.h"

#include <algorithm>
#include <cstring>

namespace herald::client {

std::string_view to_string(FrameError error) {
  switch (error) {
    case FrameError::kNone:
      return "ok";
    case FrameError::kMaskedFrame:
      return "server frame is masked";
    case FrameError::kReservedBits:
      return "reserved bits set";
    case FrameError::kUnknownOpcode:
      return "unknown opcode";
    case FrameError::kFragmentedControl:
      return "fragmented control frame";
    case FrameError::kControlTooLong:
      return "control frame longer than 125 bytes";
    case FrameError::kUnexpectedContinuation:
      return "continuation frame without a message";
    case FrameError::kExpectedContinuation:
      return "new message inside a fragmented message";
    case FrameError::kNonMinimalLength:
      return "payload length not minimally encoded";
    case FrameError::kLengthTooLarge:
      return "64-bit payload length has the high bit set";
    case FrameError::kMessageTooLarge:
      return "message too large";
    case FrameError::kBadClosePayload:
      return "invalid close frame payload";
    case FrameError::kInvalidUtf8:
      return "text message is not valid UTF-8";
    case FrameError::kInflateFailed:
      return "permessage-deflate data could not be inflated";
  }
  return "unknown frame error";
}

uint16_t close_code_for(FrameError error) {
  switch (error) {
    case FrameError::kMessageTooLarge:
      return 1009;
    case FrameError::kInvalidUtf8:
    case FrameError::kInflateFailed:
      return 1007;
    default:
      return 1002;
  }
}

size_t encode_client_header(uint8_t* out, Opcode opcode, uint64_t payload_len, uint32_t mask_key,
                            bool fin, bool rsv1) {
  out[0] =
      static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(opcode));
  size_t n = 2;
  if (payload_len < 126) {
    out[1] = static_cast<uint8_t>(0x80 | payload_len);
  } else if (payload_len <= 0xFFFF) {
    out[1] = 0x80 | 126;
    out[2] = static_cast<uint8_t>(payload_len >> 8);
    out[3] = static_cast<uint8_t>(payload_len);
    n = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; ++i) {
      out[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
    }
    n = 10;
  }
  std::memcpy(out + n, &mask_key, 4);
  return n + 4;
}

void mask_bytes(uint8_t* data, size_t len, uint32_t mask_key, size_t phase) {
  uint8_t key[4];
  std::memcpy(key, &mask_key, 4);
  // Rotate the key so that data[0] lines up with key[phase % 4], then go 8 bytes at a time.
  uint8_t rot[8];
  for (size_t i = 0; i < 8; ++i) {
    rot[i] = key[(i + phase) & 3];
  }
  uint64_t wide;
  std::memcpy(&wide, rot, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t chunk;
    std::memcpy(&chunk, data + i, 8);
    chunk ^= wide;
    std::memcpy(data + i, &chunk, 8);
  }
  for (; i < len; ++i) {
    data[i] ^= rot[i & 7];
  }
}

void append_client_frame(std::string& out, Opcode opcode, std::string_view payload,
                         uint32_t mask_key, bool fin, bool rsv1) {
  uint8_t header[kMaxClientFrameHeader];
  size_t header_len = encode_client_header(header, opcode, payload.size(), mask_key, fin, rsv1);
  size_t at = out.size();
  out.resize(at + header_len + payload.size());
  auto* dst = reinterpret_cast<uint8_t*>(out.data() + at);
  std::memcpy(dst, header, header_len);
  if (!payload.empty()) {
    std::memcpy(dst + header_len, payload.data(), payload.size());
    mask_bytes(dst + header_len, payload.size(), mask_key);
  }
}

std::string make_close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason.substr(0, kMaxControlPayload - 2));
  return out;
}

bool is_valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) {
    return true;
  }
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014:
      return true;
    default:
      return false;
  }
}

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path: 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t chunk;
      std::memcpy(&chunk, s + i, 8);
      if ((chunk & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

FrameEvent FrameParser::fail(FrameError error) {
  state_ = State::kFailed;
  FrameEvent ev;
  ev.kind = FrameEvent::Kind::kError;
  ev.error = error;
  return ev;
}

// Bytes of header needed, known once the first two are in header_.
size_t FrameParser::header_size_needed() const {
  uint8_t len7 = header_[1] & 0x7F;
  return 2 + (len7 == 126 ? 2 : (len7 == 127 ? 8 : 0)) + ((header_[1] & 0x80) ? 4 : 0);
}

FrameError FrameParser::decode_header(const uint8_t* h, size_t size) {
  fin_ = (h[0] & 0x80) != 0;
  rsv1_ = (h[0] & 0x40) != 0;
  uint8_t op = h[0] & 0x0F;
  bool control = (op & 0x08) != 0;
  if (op > 0xA || (op > 0x2 && op < 0x8)) {
    return FrameError::kUnknownOpcode;
  }
  opcode_ = static_cast<Opcode>(op);
  if ((h[0] & 0x30) != 0 ||
      (rsv1_ && (!allow_rsv1_ || control || opcode_ == Opcode::kContinuation))) {
    return FrameError::kReservedBits;
  }
  uint8_t len7 = h[1] & 0x7F;
  if (control) {
    if (!fin_) {
      return FrameError::kFragmentedControl;
    }
    if (len7 > kMaxControlPayload) {
      return FrameError::kControlTooLong;
    }
  } else if (opcode_ == Opcode::kContinuation && !in_message_) {
    return FrameError::kUnexpectedContinuation;
  } else if (opcode_ != Opcode::kContinuation && in_message_) {
    return FrameError::kExpectedContinuation;
  }
  uint64_t len = len7;
  if (len7 == 126) {
    len = (uint64_t{h[2]} << 8) | h[3];
    if (len < 126) {
      return FrameError::kNonMinimalLength;
    }
  } else if (len7 == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) {
      len = (len << 8) | h[2 + i];
    }
    if (len >> 63) {
      return FrameError::kLengthTooLarge;
    }
    if (len <= 0xFFFF) {
      return FrameError::kNonMinimalLength;
    }
  }
  (void)size;
  if (!control) {
    uint64_t already = in_message_ ? message_.size() : 0;
    if (len > max_message_ || already + len > max_message_) {
      return FrameError::kMessageTooLarge;
    }
  }
  remaining_ = len;
  return FrameError::kNone;
}

// Called when the whole payload of the current frame is known; payload is the full frame
// payload (control frames, or an unfragmented message) or empty when it was appended to
// message_ / control_ already.
FrameEvent FrameParser::finish_frame(std::string_view payload) {
  state_ = State::kHeader;
  header_len_ = 0;
  FrameEvent ev;
  switch (opcode_) {
    case Opcode::kPing:
      ev.kind = FrameEvent::Kind::kPing;
      break;
    case Opcode::kPong:
      ev.kind = FrameEvent::Kind::kPong;
      break;
    case Opcode::kClose: {
      ev.kind = FrameEvent::Kind::kClose;
      ev.close_code = 1005;
      if (payload.size() == 1) {
        return fail(FrameError::kBadClosePayload);
      }
      if (payload.size() >= 2) {
        auto code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                          static_cast<uint8_t>(payload[1]));
        if (!is_valid_close_code(code) || !is_valid_utf8(payload.substr(2))) {
          return fail(FrameError::kBadClosePayload);
        }
        ev.close_code = code;
        payload = payload.substr(2);
      }
      break;
    }
    default: {
      if (!fin_) {
        return ev;  // a fragment: keep assembling, caller keeps parsing
      }
      ev.kind = FrameEvent::Kind::kMessage;
      ev.opcode = message_opcode_;
      ev.compressed = message_compressed_;
      in_message_ = false;
      clear_message_ = true;
      break;
    }
  }
  ev.payload = payload;
  return ev;
}

FrameEvent FrameParser::parse(std::string_view input, size_t* consumed) {
  if (clear_message_) {
    message_.clear();
    clear_message_ = false;
  }
  const auto* in = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = 0;
  while (true) {
    if (state_ == State::kFailed) {
      *consumed = input.size();
      FrameEvent ev;
      ev.kind = FrameEvent::Kind::kError;
      return ev;
    }
    if (state_ == State::kHeader) {
      size_t avail = input.size() - pos;
      const uint8_t* h = nullptr;
      size_t hsize = 0;
      if (header_len_ == 0 && avail >= 2) {
        // Fast path: the header is read in place.
        std::memcpy(header_, in + pos, 2);
        hsize = header_size_needed();
        if (avail >= hsize) {
          h = in + pos;
          pos += hsize;
        }
      }
      if (h == nullptr) {
        while (header_len_ < 2 && pos < input.size()) {
          header_[header_len_++] = in[pos++];
        }
        if (header_len_ < 2) {
          *consumed = pos;
          return {};
        }
        if (header_[1] & 0x80) {
          *consumed = pos;
          return fail(FrameError::kMaskedFrame);
        }
        hsize = header_size_needed();
        size_t take = std::min(hsize - header_len_, input.size() - pos);
        std::memcpy(header_ + header_len_, in + pos, take);
        header_len_ += take;
        pos += take;
        if (header_len_ < hsize) {
          *consumed = pos;
          return {};
        }
        h = header_;
      }
      if (h[1] & 0x80) {
        *consumed = pos;
        return fail(FrameError::kMaskedFrame);
      }
      FrameError err = decode_header(h, hsize);
      if (err != FrameError::kNone) {
        *consumed = pos;
        return fail(err);
      }
      header_len_ = 0;
      bool control = (static_cast<uint8_t>(opcode_) & 0x08) != 0;
      if (!control && opcode_ != Opcode::kContinuation) {
        message_opcode_ = opcode_;
        message_compressed_ = rsv1_;
        in_message_ = true;
      }
      state_ = State::kPayload;
      // Zero-copy: a whole frame that needs no assembly is handed out in place.
      if (remaining_ <= input.size() - pos &&
          (control || (fin_ && opcode_ != Opcode::kContinuation))) {
        std::string_view payload = input.substr(pos, remaining_);
        pos += remaining_;
        remaining_ = 0;
        *consumed = pos;
        return finish_frame(payload);
      }
      if (control) {
        control_.clear();
      }
    }
    // State::kPayload: copy what is there.
    size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - pos));
    bool control = (static_cast<uint8_t>(opcode_) & 0x08) != 0;
    std::string& sink = control ? control_ : message_;
    sink.append(input.data() + pos, take);
    pos += take;
    remaining_ -= take;
    if (remaining_ > 0) {
      *consumed = pos;
      return {};
    }
    FrameEvent ev = finish_frame(control ? std::string_view(control_) : std::string_view(message_));
    if (ev.kind != FrameEvent::Kind::kNeedMore) {
      *consumed = pos;
      return ev;
    }
    // A non-final fragment was absorbed; carry on with the next frame.
  }
}

}  // namespace herald::client
