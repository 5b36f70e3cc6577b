// Fuzzes ws::Inflater with a small output cap, message after message on one stream, and
// checks that whatever it inflates survives a Deflater -> Inflater round trip.
//
// Input: [flags][len][message bytes]...  flags bit 0: client_no_context_takeover,
// bits 1-3: client window bits - 8.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "ws/deflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  constexpr size_t kCap = 1 << 16;
  herald::ws::DeflateParams p;
  p.client_no_context_takeover = (data[0] & 1) != 0;
  p.client_max_window_bits = static_cast<uint8_t>(8 + ((data[0] >> 1) & 7));
  herald::ws::Inflater inflater(p, kCap);
  herald::ws::Deflater deflater(8 + ((data[0] >> 4) & 7), 1 + (data[0] >> 7) * 8);
  size_t pos = 1;
  while (pos < size) {
    size_t len = std::min<size_t>(data[pos], size - pos - 1);
    std::string_view msg(reinterpret_cast<const char*>(data) + pos + 1, len);
    pos += 1 + len;
    std::string out;
    auto st = inflater.inflate_message(msg, out);
    if (out.size() > kCap) {
      std::abort();
    }
    if (st != herald::ws::Inflater::Status::kOk) {
      if (!out.empty()) {
        std::abort();
      }
      break;  // a real connection closes here
    }
    std::string again;
    deflater.deflate_message(out, again);
    herald::ws::Inflater check(herald::ws::DeflateParams{}, kCap);
    std::string back;
    if (check.inflate_message(again, back) != herald::ws::Inflater::Status::kOk || back != out) {
      std::abort();
    }
  }
  return 0;
}
