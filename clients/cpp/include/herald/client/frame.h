#pragma once
// RFC 6455 framing for the CLIENT side: masked frames out, unmasked server frames in.
// Written independently of src/ws on purpose (the benchmark must not share the server's code).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::client {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Why a server's byte stream was rejected. Each maps to close code 1002 (protocol error) except
// kMessageTooLarge (1009) and kInvalidUtf8 / kInflateFailed (1007).
enum class FrameError : uint8_t {
  kNone = 0,
  kMaskedFrame,             // servers must not mask (RFC 6455 5.1)
  kReservedBits,            // RSV2/RSV3, or RSV1 without permessage-deflate / on control frames
  kUnknownOpcode,           // 0x3-0x7, 0xB-0xF
  kFragmentedControl,       // control frame with FIN clear
  kControlTooLong,          // control payload > 125 bytes
  kUnexpectedContinuation,  // continuation with no message in progress
  kExpectedContinuation,    // new data frame while a fragmented message is in progress
  kNonMinimalLength,        // 16/64-bit length used for a length that fits a shorter form
  kLengthTooLarge,          // 64-bit length with the high bit set
  kMessageTooLarge,         // over the configured maximum message size
  kBadClosePayload,         // close payload of 1 byte, invalid code, or non-UTF-8 reason
  kInvalidUtf8,             // text message that is not UTF-8
  kInflateFailed,           // permessage-deflate data that zlib rejects
};
std::string_view to_string(FrameError error);
// The close code a client sends when it fails the connection for this error.
uint16_t close_code_for(FrameError error);

constexpr size_t kMaxClientFrameHeader = 14;  // 2 + 8 (64-bit length) + 4 (mask)
constexpr size_t kMaxControlPayload = 125;

// Writes the header of a masked client frame (mask key included) and returns its size.
// out must have room for kMaxClientFrameHeader bytes.
size_t encode_client_header(uint8_t* out, Opcode opcode, uint64_t payload_len, uint32_t mask_key,
                            bool fin = true, bool rsv1 = false);

// XORs data with the 4-byte mask (in memory order of mask_key); phase = offset into the payload.
void mask_bytes(uint8_t* data, size_t len, uint32_t mask_key, size_t phase = 0);

// Appends a complete masked frame to out; reuses out's capacity (no allocation once warm).
void append_client_frame(std::string& out, Opcode opcode, std::string_view payload,
                         uint32_t mask_key, bool fin = true, bool rsv1 = false);

// Close frame payload: 2-byte code + reason (the reason is cut to fit 125 bytes).
std::string make_close_payload(uint16_t code, std::string_view reason);
// Codes a peer may put on the wire (RFC 6455 7.4, IANA registry, 3000-4999 for applications).
bool is_valid_close_code(uint16_t code);
bool is_valid_utf8(std::string_view text);

// One thing the parser found. payload stays valid until the next parse() call.
struct FrameEvent {
  enum class Kind : uint8_t { kNeedMore, kMessage, kPing, kPong, kClose, kError };
  Kind kind = Kind::kNeedMore;
  Opcode opcode = Opcode::kText;  // kText or kBinary for kMessage
  bool compressed = false;        // RSV1 was set on the first frame (permessage-deflate)
  uint16_t close_code = 0;        // kClose: 1005 (none given) or the code; reason is payload
  FrameError error = FrameError::kNone;
  std::string_view payload;
};

// Incremental parser of server-to-client frames. Complete messages are delivered without a
// copy when a whole unfragmented frame is inside one input chunk; otherwise they are assembled
// in an internal buffer. It never needs the caller to keep unconsumed bytes around.
// Owned by one Connection. Thread: the connection's loop only. After kError it stays failed.
class FrameParser {
 public:
  explicit FrameParser(uint64_t max_message_size = 16u << 20) : max_message_(max_message_size) {}

  void set_allow_compression(bool allow) { allow_rsv1_ = allow; }
  void set_max_message_size(uint64_t max) { max_message_ = max; }

  // Consumes a prefix of input (*consumed bytes) and returns the first event in it. Call again
  // with the rest until kNeedMore, which always consumes all remaining input.
  FrameEvent parse(std::string_view input, size_t* consumed);

  bool failed() const { return state_ == State::kFailed; }

 private:
  enum class State : uint8_t { kHeader, kPayload, kFailed };

  FrameError decode_header(const uint8_t* h, size_t size);
  size_t header_size_needed() const;
  FrameEvent finish_frame(std::string_view payload);
  FrameEvent fail(FrameError error);

  uint64_t max_message_;
  bool allow_rsv1_ = false;
  State state_ = State::kHeader;
  uint8_t header_[kMaxClientFrameHeader] = {};
  size_t header_len_ = 0;

  // The frame being read.
  bool fin_ = false;
  bool rsv1_ = false;
  Opcode opcode_ = Opcode::kText;
  uint64_t remaining_ = 0;

  // The data message being assembled from fragments (or from a frame split across reads).
  bool in_message_ = false;
  Opcode message_opcode_ = Opcode::kText;
  bool message_compressed_ = false;
  std::string message_;
  std::string control_;
  bool clear_message_ = false;
};

}  // namespace herald::client
