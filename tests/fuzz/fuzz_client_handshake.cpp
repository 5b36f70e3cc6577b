// Feeds arbitrary bytes as a server's handshake response, in chunks, to the client's
// HandshakeResponseParser (deflate offered when the first byte is odd).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "herald/client/handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using Status = herald::client::HandshakeResponseParser::Status;
  if (size < 1) {
    return 0;
  }
  const size_t chunk = (data[0] >> 1) + 1;
  herald::client::HandshakeResponseParser parser("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                                                 (data[0] & 1) != 0);
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t total = 0;
  while (!input.empty()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    size_t used = 0;
    Status status = parser.parse(piece, &used);
    if (used > piece.size()) {
      std::abort();
    }
    total += used;
    if (total > herald::client::kMaxResponseHead) {
      std::abort();
    }
    if (status != Status::kNeedMore) {
      if (status == Status::kDone && parser.error() != herald::client::HandshakeError::kNone) {
        std::abort();
      }
      break;
    }
  }
  return 0;
}
