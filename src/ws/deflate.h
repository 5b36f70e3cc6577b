#pragma once
// permessage-deflate (RFC 7692): offer negotiation, and the zlib state for one direction.
//
// Server policy, chosen so that outgoing frames can be encoded once and sent to many:
// the server always compresses each message on its own (fresh context) and says so with
// server_no_context_takeover, so a compressed frame does not depend on anything a given
// client saw before. A Deflater therefore holds no per-client state: one per event loop
// (per window size in use) serves every connection.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace herald::ws {

// What was agreed with one client.
struct DeflateParams {
  bool server_no_context_takeover = false;  // we reset our compressor every message
  bool client_no_context_takeover = false;  // the client resets its compressor every message
  uint8_t server_max_window_bits = 15;      // largest window our frames may refer back into
  uint8_t client_max_window_bits = 15;      // largest window the client's frames may use
};

// Server-side settings for permessage-deflate.
struct DeflateConfig {
  // Off: never negotiate; every message travels uncompressed.
  bool enabled = true;
  // Cap on one inflated message; past it the connection is closed with 1009 (zip bombs).
  size_t max_inflated_message = 16 * 1024 * 1024;
  // zlib level 1: messages are small and real-time; higher levels cost CPU for a few %.
  int level = 1;
  // zlib memLevel: 8 is zlib's default; lower saves memory and reset time on tiny messages.
  int mem_level = 8;
  // Our compression window cap (8-15). We never announce it unless the client asks.
  uint8_t server_max_window_bits = 15;
  // Window we ask clients to limit themselves to when they offer client_max_window_bits
  // (8-15); smaller means a smaller inflater per connection. 15 = no request.
  uint8_t client_max_window_bits = 15;
};

// Parses a Sec-WebSocket-Extensions request value (comma-separated offers, each with
// ;-separated params, values as tokens or quoted strings) and accepts the first
// permessage-deflate offer we can honour. On success writes the response extension value
// (e.g. "permessage-deflate; server_no_context_takeover") to response_value. An offer with
// an unknown, duplicated or malformed parameter is declined (RFC 7692 5); a value that is not
// valid syntax declines every offer. Never fails the handshake.
std::optional<DeflateParams> negotiate_permessage_deflate(std::string_view offers,
                                                          const DeflateConfig& config,
                                                          std::string& response_value);

// Decompressor for the messages of one client (or of every client of a loop that agreed on
// client_no_context_takeover, since it then keeps nothing between messages).
// Thread: owning loop only.
class Inflater {
 public:
  enum class Status : uint8_t {
    kOk,       // message inflated and appended
    kTooBig,   // output passed max_output; stopped there (1009)
    kCorrupt,  // not a valid DEFLATE stream (1007)
  };

  // Allocates zlib's state (about 7 KiB) now; zlib adds the window (2^bits bytes) on first use.
  Inflater(const DeflateParams& params, size_t max_output);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // False if zlib could not allocate its state; such an Inflater reports kCorrupt.
  bool ok() const;

  // Inflates one message's compressed payload (all its frames' payloads concatenated; the
  // 00 00 ff ff tail is added here) and appends the result to out. After kTooBig or
  // kCorrupt the stream state is reset; the connection is expected to close.
  Status inflate_message(std::string_view compressed, std::string& out);

 private:
  struct Zlib;
  Status run(const uint8_t* in, size_t size, std::string& out, size_t start, size_t& produced,
             bool& ended);
  void reset_after_stream_end();

  std::unique_ptr<Zlib> z_;
  size_t max_output_;
  bool reset_each_message_;
};

// Compressor producing the payloads of RSV1 frames. Each message is compressed from a
// fresh context and its 00 00 ff ff tail stripped, so the output is valid for every client
// whose negotiated server_max_window_bits is >= window_bits, whatever context mode it chose.
// Thread: owning loop only.
class Deflater {
 public:
  // window_bits 8 is served with zlib's 9-bit window: zlib never looks back further than
  // 2^bits - 262 bytes, so the output still fits a 256-byte window.
  Deflater(int window_bits, int level, int mem_level = 8);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  bool ok() const;
  int window_bits() const { return window_bits_; }

  // Appends the compressed payload of one message to out.
  void deflate_message(std::string_view in, std::string& out);

 private:
  struct Zlib;
  std::unique_ptr<Zlib> z_;
  int window_bits_;
};

}  // namespace herald::ws
