// Feeds arbitrary bytes as what the server API sends back on one keep-alive connection, in
// chunks of (data[0] % 64) + 1 bytes, to parse_http_response the way ApiClient uses it: take
// every complete response off the front of the buffer, stop at the first error. Properties:
// a response never spans more than the buffer, its body lies inside it, and the head limit holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t chunk = (data[0] % 64) + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string buffer;
  while (!input.empty()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    buffer.append(piece);
    while (true) {
      herald::bench::HttpResponse r;
      herald::bench::HttpError error;
      size_t span = herald::bench::parse_http_response(buffer, &r, &error);
      if (error != herald::bench::HttpError::kNone) {
        if (span != 0) {
          std::abort();
        }
        return 0;
      }
      if (span == 0) {
        if (buffer.size() > herald::bench::kMaxResponseHead + herald::bench::kMaxResponseBody) {
          std::abort();
        }
        break;
      }
      if (span > buffer.size() || r.status < 100 || r.status > 999 ||
          r.body.data() < buffer.data() || r.body.data() + r.body.size() != buffer.data() + span) {
        std::abort();
      }
      buffer.erase(0, span);
    }
  }
  return 0;
}
