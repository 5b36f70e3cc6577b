// Feeds arbitrary server bytes to the client's FrameParser in chunks (size from the first
// byte), inflating compressed messages, and checks the parser's own promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "herald/client/deflate.h"
#include "herald/client/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using herald::client::FrameEvent;
  if (size < 1) {
    return 0;
  }
  const bool compression = (data[0] & 0x80) != 0;
  const size_t chunk = (data[0] & 0x3F) + 1;
  constexpr uint64_t kMax = 1 << 16;
  herald::client::FrameParser parser(kMax);
  parser.set_allow_compression(compression);
  herald::client::Inflater inflater(15, (data[0] & 0x40) != 0);
  std::string inflated;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!input.empty()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    while (true) {
      size_t used = 0;
      FrameEvent ev = parser.parse(piece, &used);
      if (used > piece.size()) {
        std::abort();
      }
      piece.remove_prefix(used);
      if (ev.kind == FrameEvent::Kind::kNeedMore) {
        if (!piece.empty()) {
          std::abort();  // kNeedMore must consume everything
        }
        break;
      }
      if (ev.kind == FrameEvent::Kind::kError) {
        if (!parser.failed()) {
          std::abort();
        }
        return 0;
      }
      if (ev.kind == FrameEvent::Kind::kMessage) {
        if (ev.payload.size() > kMax || (ev.compressed && !compression)) {
          std::abort();
        }
        if (ev.compressed) {
          auto err = inflater.inflate_message(ev.payload, kMax, inflated);
          if (err == herald::client::FrameError::kNone && inflated.size() > kMax) {
            std::abort();
          }
        }
      } else if (ev.payload.size() > herald::client::kMaxControlPayload) {
        std::abort();
      }
    }
  }
  return 0;
}
