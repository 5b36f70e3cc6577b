#pragma once
// Client side of permessage-deflate (RFC 7692): raw DEFLATE with the 00 00 FF FF tail removed
// on send and restored on receive. Only built when the server accepts the offer, because each
// zlib stream costs tens of KiB per connection.

#include <cstdint>
#include <string>
#include <string_view>

#include "herald/client/frame.h"

struct z_stream_s;

namespace herald::client {

// Inflates server messages. Owned by one Connection. Thread: the connection's loop only.
class Inflater {
 public:
  Inflater(int window_bits, bool no_context_takeover);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Replaces out with the inflated message. kMessageTooLarge past max_size (a deflate bomb
  // stops there, it does not grow memory), kInflateFailed on corrupt data.
  FrameError inflate_message(std::string_view in, uint64_t max_size, std::string& out);

 private:
  z_stream_s* z_;
  bool no_context_takeover_;
  bool ok_;
};

// Deflates client messages. Owned by one Connection. Thread: the connection's loop only.
class Deflater {
 public:
  Deflater(int window_bits, bool no_context_takeover);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Replaces out with the compressed payload (tail removed). False only if zlib fails.
  bool deflate_message(std::string_view in, std::string& out);

 private:
  z_stream_s* z_;
  bool no_context_takeover_;
  bool ok_;
};

}  // namespace herald::client
