#include "ws/receiver.h"

#include <algorithm>
#include <cstring>

#include "ws/deflate.h"

namespace herald::ws {
namespace {

// XORs the masking key over p, starting `offset` bytes into the frame payload. Works on
// 8-byte words (the key repeated twice); compilers turn the 32-byte loop into SIMD.
void unmask(uint8_t* p, size_t n, const uint8_t key[4], size_t offset) {
  uint8_t k8[8];
  for (size_t i = 0; i < 8; ++i) {
    k8[i] = key[(offset + i) & 3];
  }
  uint64_t k;
  std::memcpy(&k, k8, sizeof k);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, sizeof w);
    w[0] ^= k;
    w[1] ^= k;
    w[2] ^= k;
    w[3] ^= k;
    std::memcpy(p + i, w, sizeof w);
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    w ^= k;
    std::memcpy(p + i, &w, sizeof w);
  }
  for (; i < n; ++i) {
    p[i] ^= k8[i & 7];
  }
}

bool is_reserved_opcode(uint8_t op) {
  return (op >= 3 && op <= 7) || op >= 11;
}

std::string_view view(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace

uint16_t close_code_for(ReceiveError error) {
  switch (error) {
    case ReceiveError::kNone:
      return kCloseNormal;
    case ReceiveError::kInvalidUtf8:
    case ReceiveError::kInflateFailed:
      return kCloseInvalidPayload;
    case ReceiveError::kFrameTooBig:
    case ReceiveError::kMessageTooBig:
    case ReceiveError::kInflatedTooBig:
      return kCloseTooBig;
    default:
      return kCloseProtocolError;
  }
}

std::string_view to_string(ReceiveError error) {
  switch (error) {
    case ReceiveError::kNone:
      return "none";
    case ReceiveError::kUnmasked:
      return "unmasked";
    case ReceiveError::kReservedBits:
      return "reserved_bits";
    case ReceiveError::kReservedOpcode:
      return "reserved_opcode";
    case ReceiveError::kControlTooBig:
      return "control_too_big";
    case ReceiveError::kFragmentedControl:
      return "fragmented_control";
    case ReceiveError::kUnexpectedContinuation:
      return "unexpected_continuation";
    case ReceiveError::kExpectedContinuation:
      return "expected_continuation";
    case ReceiveError::kNonMinimalLength:
      return "non_minimal_length";
    case ReceiveError::kLengthMsbSet:
      return "length_msb_set";
    case ReceiveError::kFrameTooBig:
      return "frame_too_big";
    case ReceiveError::kMessageTooBig:
      return "message_too_big";
    case ReceiveError::kInflatedTooBig:
      return "inflated_too_big";
    case ReceiveError::kInvalidUtf8:
      return "invalid_utf8";
    case ReceiveError::kBadClosePayload:
      return "bad_close_payload";
    case ReceiveError::kBadCloseCode:
      return "bad_close_code";
    case ReceiveError::kInflateFailed:
      return "inflate_failed";
  }
  return "unknown";
}

Receiver::Receiver(const ReceiverLimits& limits, Inflater* inflater)
    : limits_(limits), inflater_(inflater) {}

bool Receiver::fail(ReceiveError error) {
  error_ = error;
  in_frame_ = false;
  release_buffer();
  return false;
}

void Receiver::release_buffer() {
  std::string().swap(buf_);
}

// Returns the header size once the whole header is present and valid; 0 if more bytes are
// needed or on error. The first two bytes are checked as soon as they arrive.
size_t Receiver::parse_header(const uint8_t* p, size_t avail) {
  if (avail < 2) {
    return 0;
  }
  const uint8_t b0 = p[0];
  const uint8_t b1 = p[1];
  const uint8_t op = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  const bool control = (op & 0x08) != 0;
  const bool msg_open = msg_opcode_ != Opcode::kContinuation;
  if ((b0 & 0x30) != 0) {
    fail(ReceiveError::kReservedBits);
    return 0;
  }
  if (is_reserved_opcode(op)) {
    fail(ReceiveError::kReservedOpcode);
    return 0;
  }
  // RFC 7692 6: RSV1 marks a compressed message, so only its first frame may carry it.
  if (rsv1 && (inflater_ == nullptr || control || op == 0)) {
    fail(ReceiveError::kReservedBits);
    return 0;
  }
  if ((b1 & 0x80) == 0) {
    fail(ReceiveError::kUnmasked);
    return 0;
  }
  const uint8_t len7 = b1 & 0x7F;
  if (control) {
    if (!fin) {
      fail(ReceiveError::kFragmentedControl);
      return 0;
    }
    if (len7 > kMaxControlPayload) {
      fail(ReceiveError::kControlTooBig);
      return 0;
    }
  } else if (op == 0 && !msg_open) {
    fail(ReceiveError::kUnexpectedContinuation);
    return 0;
  } else if (op != 0 && msg_open) {
    fail(ReceiveError::kExpectedContinuation);
    return 0;
  }

  const size_t header_size = len7 == 126 ? 8 : (len7 == 127 ? 14 : 6);
  if (avail < header_size) {
    return 0;
  }
  uint64_t len = len7;
  if (len7 == 126) {
    len = (uint64_t{p[2]} << 8) | p[3];
    if (len < 126) {
      fail(ReceiveError::kNonMinimalLength);
      return 0;
    }
  } else if (len7 == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) {
      len = (len << 8) | p[2 + i];
    }
    if ((len >> 63) != 0) {
      fail(ReceiveError::kLengthMsbSet);
      return 0;
    }
    if (len <= 0xFFFF) {
      fail(ReceiveError::kNonMinimalLength);
      return 0;
    }
  }
  if (!control) {
    if (len > limits_.max_frame_payload) {
      fail(ReceiveError::kFrameTooBig);
      return 0;
    }
    // Between data frames buf_ holds exactly the message so far.
    if (buf_.size() > limits_.max_message || len > limits_.max_message - buf_.size()) {
      fail(ReceiveError::kMessageTooBig);
      return 0;
    }
    if (op != 0) {
      msg_opcode_ = static_cast<Opcode>(op);
      msg_compressed_ = rsv1;
      utf8_.reset();
    }
  } else {
    ctrl_len_ = static_cast<uint8_t>(len);
  }
  std::memcpy(mask_, p + header_size - 4, 4);
  frame_opcode_ = static_cast<Opcode>(op);
  frame_fin_ = fin;
  frame_remaining_ = len;
  mask_offset_ = 0;
  frame_partial_ = false;
  in_frame_ = true;
  return header_size;
}

size_t Receiver::consume(uint8_t* data, size_t size, Events& events) {
  if (error_ != ReceiveError::kNone) {
    return 0;
  }
  if (closed_) {
    return size;
  }
  size_t pos = 0;
  for (;;) {
    if (!in_frame_) {
      size_t header_size = parse_header(data + pos, size - pos);
      if (header_size == 0) {
        break;  // incomplete header (kept by the caller) or error
      }
      pos += header_size;
    }
    const size_t avail = size - pos;
    const size_t n = frame_remaining_ < avail ? static_cast<size_t>(frame_remaining_) : avail;
    if (n == 0 && frame_remaining_ != 0) {
      break;  // the rest of this payload is still on the wire
    }
    uint8_t* chunk = data + pos;
    pos += n;
    if (!on_payload(chunk, n, events)) {
      break;  // error or close
    }
  }
  if (closed_) {
    return size;
  }
  if (error_ == ReceiveError::kNone && !in_frame_ && buf_.empty() &&
      buf_.capacity() > kInlineCapacity) {
    release_buffer();  // idle connections keep no heap
  }
  return pos;
}

// Handles n payload bytes of the current frame (possibly 0). Returns false to stop parsing.
bool Receiver::on_payload(uint8_t* chunk, size_t n, Events& events) {
  const bool first_piece = !frame_partial_;
  unmask(chunk, n, mask_, mask_offset_);
  mask_offset_ = static_cast<uint8_t>((mask_offset_ + n) & 3);
  frame_remaining_ -= n;
  frame_partial_ = true;
  const bool frame_done = frame_remaining_ == 0;

  if (is_control(frame_opcode_)) {
    if (first_piece && frame_done) {
      in_frame_ = false;
      return handle_control(chunk, n, events);
    }
    buf_.append(reinterpret_cast<const char*>(chunk), n);
    if (!frame_done) {
      return true;
    }
    in_frame_ = false;
    // Lift the control payload off the end of the buffer, leaving the message as it was.
    uint8_t payload[kMaxControlPayload];
    const size_t base = buf_.size() - ctrl_len_;
    std::memcpy(payload, buf_.data() + base, ctrl_len_);
    buf_.resize(base);
    return handle_control(payload, ctrl_len_, events);
  }

  if (msg_opcode_ == Opcode::kText && !msg_compressed_ && !utf8_.feed(chunk, n)) {
    return fail(ReceiveError::kInvalidUtf8);
  }
  if (frame_done) {
    in_frame_ = false;
  }
  if (frame_done && frame_fin_ && first_piece && buf_.empty()) {
    // Fast path: the whole message is this one frame, whole in the caller's buffer.
    return finish_message(chunk, n, events);
  }
  if (n > 0) {
    // Room for the whole frame at once (its length is already within the limits): growing
    // by appends costs 4x more on a 16 MiB frame. Reserving touches no pages, so memory in
    // use still follows the bytes actually received. Doubling keeps many small fragments
    // linear.
    const size_t want = buf_.size() + n + static_cast<size_t>(frame_remaining_);
    if (buf_.capacity() < want) {
      buf_.reserve(std::max(want, 2 * buf_.capacity()));
    }
    buf_.append(reinterpret_cast<const char*>(chunk), n);
  }
  if (!frame_done || !frame_fin_) {
    return true;
  }
  bool ok = finish_message(reinterpret_cast<const uint8_t*>(buf_.data()), buf_.size(), events);
  if (error_ == ReceiveError::kNone) {
    buf_.clear();
  }
  return ok;
}

bool Receiver::finish_message(const uint8_t* p, size_t n, Events& events) {
  const Opcode op = msg_opcode_;
  const bool compressed = msg_compressed_;
  msg_opcode_ = Opcode::kContinuation;
  msg_compressed_ = false;
  if (!compressed) {
    if (op == Opcode::kText && !utf8_.complete()) {
      return fail(ReceiveError::kInvalidUtf8);  // message ends inside a character
    }
    events.on_message(op, view(p, n));
    return true;
  }
  // A local buffer rather than a shared scratch: a handler may itself feed another Receiver.
  std::string inflated;
  switch (inflater_->inflate_message(view(p, n), inflated)) {
    case Inflater::Status::kOk:
      break;
    case Inflater::Status::kTooBig:
      return fail(ReceiveError::kInflatedTooBig);
    case Inflater::Status::kCorrupt:
      return fail(ReceiveError::kInflateFailed);
  }
  if (op == Opcode::kText && !is_valid_utf8(inflated)) {
    return fail(ReceiveError::kInvalidUtf8);
  }
  events.on_message(op, inflated);
  return true;
}

bool Receiver::handle_control(const uint8_t* p, size_t n, Events& events) {
  switch (frame_opcode_) {
    case Opcode::kPing:
      events.on_ping(view(p, n));
      return true;
    case Opcode::kPong:
      events.on_pong(view(p, n));
      return true;
    default:
      break;
  }
  // Close (RFC 6455 5.5.1): empty, or a 2-byte code followed by a UTF-8 reason.
  if (n == 1) {
    return fail(ReceiveError::kBadClosePayload);
  }
  uint16_t code = kCloseNoStatus;
  std::string_view reason;
  if (n >= 2) {
    code = static_cast<uint16_t>((p[0] << 8) | p[1]);
    if (!is_valid_received_close_code(code)) {
      return fail(ReceiveError::kBadCloseCode);
    }
    reason = view(p + 2, n - 2);
    if (!is_valid_utf8(reason)) {
      return fail(ReceiveError::kInvalidUtf8);
    }
  }
  closed_ = true;
  release_buffer();
  events.on_close(code, reason);
  return false;
}

}  // namespace herald::ws
