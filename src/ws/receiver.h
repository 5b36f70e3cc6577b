#pragma once
// Receiver: the server side of RFC 6455 framing for one connection, sans-I/O. Bytes read from
// the socket go in; whole messages, pings, pongs and the close frame come out as events.
//
// What it enforces (each violation is a ReceiveError that names the close code to send):
// masked client frames; no RSV bits except RSV1 on the first frame of a compressed message;
// known opcodes; control frames of <= 125 bytes with FIN set, allowed between the fragments
// of a data message; continuation frames only inside a message; UTF-8 text, checked as bytes
// arrive so a bad message is failed before its end; a well-formed close payload; and the
// frame and message size limits, checked against the declared length before any buffering.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame.h"
#include "ws/utf8.h"

namespace herald::ws {

class Inflater;

struct ReceiverLimits {
  // Largest frame payload accepted (1009 above). 16 MiB lets Autobahn 9.x through.
  size_t max_frame_payload = 16 * 1024 * 1024;
  // Largest message, all fragments together, as received (compressed size if deflated).
  size_t max_message = 16 * 1024 * 1024;
};

enum class ReceiveError : uint8_t {
  kNone,
  kUnmasked,                // a client frame without the mask bit (RFC 6455 5.1)
  kReservedBits,            // RSV2/RSV3; RSV1 without deflate or off a first data frame
  kReservedOpcode,          // opcode 3-7 or 11-15
  kControlTooBig,           // control frame payload over 125 bytes
  kFragmentedControl,       // control frame without FIN
  kUnexpectedContinuation,  // continuation frame while no message is open
  kExpectedContinuation,    // text/binary frame while a fragmented message is still open
  kNonMinimalLength,        // length sent in a longer form than needed (RFC 6455 5.2 MUST)
  kLengthMsbSet,            // 64-bit length with its most significant bit set
  kFrameTooBig,             // frame payload over ReceiverLimits::max_frame_payload
  kMessageTooBig,           // message over ReceiverLimits::max_message
  kInflatedTooBig,          // inflated message over DeflateConfig::max_inflated_message
  kInvalidUtf8,             // text message or close reason that is not UTF-8
  kBadClosePayload,         // close frame with a 1-byte payload
  kBadCloseCode,            // code not allowed on the wire (is_valid_received_close_code)
  kInflateFailed,           // compressed payload is not a valid DEFLATE stream
};

// The close code to send for an error: 1007 for bad data (UTF-8, corrupt DEFLATE, which is
// data inconsistent with its type), 1009 for size limits, 1002 for every framing violation.
uint16_t close_code_for(ReceiveError error);
// Stable lowercase name for logs and metrics, e.g. "invalid_utf8".
std::string_view to_string(ReceiveError error);

// Frame parser and message assembler of one connection.
// Owned by the connection. Thread: owning loop only.
class Receiver {
 public:
  // Called synchronously from consume(). Views are valid only during the call, and the
  // handler must not call consume() on the same Receiver.
  class Events {
   public:
    virtual void on_message(Opcode op, std::string_view payload) = 0;  // kText or kBinary
    virtual void on_ping(std::string_view payload) = 0;
    virtual void on_pong(std::string_view payload) = 0;
    // code is kCloseNoStatus (1005) for an empty close frame. Nothing follows it.
    virtual void on_close(uint16_t code, std::string_view reason) = 0;

   protected:
    // Virtual only so that -Wnon-virtual-dtor accepts handlers; never deleted through Events.
    virtual ~Events() = default;
  };

  // inflater: nullptr unless permessage-deflate was negotiated; not owned, must outlive this.
  Receiver(const ReceiverLimits& limits, Inflater* inflater);

  // Parses everything it can from data, unmasking in place. Returns the bytes consumed: all of
  // them except an incomplete frame header (< 14 bytes), which the caller keeps and passes
  // again at the front of the next call. Partial payloads are consumed and buffered here.
  // A complete unfragmented uncompressed frame is delivered as a view into data, no copy.
  // On error, stops at the offending frame (check error()); after a close frame, returns size.
  size_t consume(uint8_t* data, size_t size, Events& events);

  // Once set, consume() returns 0 and does nothing.
  ReceiveError error() const { return error_; }
  // A close frame was received; later bytes are ignored.
  bool closed() const { return closed_; }
  // Heap bytes held for a partial message (0 between messages).
  size_t buffered_capacity() const {
    return buf_.capacity() > kInlineCapacity ? buf_.capacity() : 0;
  }

 private:
  static constexpr size_t kInlineCapacity = 15;  // std::string small-buffer size

  size_t parse_header(const uint8_t* p, size_t avail);
  bool on_payload(uint8_t* chunk, size_t n, Events& events);
  bool handle_control(const uint8_t* p, size_t n, Events& events);
  bool finish_message(const uint8_t* p, size_t n, Events& events);
  bool fail(ReceiveError error);
  void release_buffer();

  ReceiverLimits limits_;
  Inflater* inflater_;
  // Fragments of the open message (or the part received of a frame split across reads),
  // followed by a partial control frame when one arrives in pieces.
  std::string buf_;
  uint64_t frame_remaining_ = 0;  // payload bytes of the current frame not yet seen
  Utf8Validator utf8_;            // state across the fragments of an uncompressed text message
  uint8_t mask_[4] = {};
  uint8_t mask_offset_ = 0;  // payload bytes seen in the current frame, mod 4
  uint8_t ctrl_len_ = 0;     // payload length of the current control frame
  Opcode frame_opcode_ = Opcode::kContinuation;
  Opcode msg_opcode_ = Opcode::kContinuation;  // kContinuation = no message open
  bool frame_fin_ = false;
  bool in_frame_ = false;       // header parsed, payload pending
  bool frame_partial_ = false;  // some payload of the current frame already consumed
  bool msg_compressed_ = false;
  bool closed_ = false;
  ReceiveError error_ = ReceiveError::kNone;
};

}  // namespace herald::ws
