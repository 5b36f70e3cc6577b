// Feeds arbitrary bytes as what the server sends back on one keep-alive connection (the server
// API's answers, long-poll answers), in chunks of (data[0] % 64) + 1 bytes, to
// parse_http_response the way ApiClient and the poll link use it: take every complete response
// off the front of the buffer, stop at the first error; each body also goes through
// parse_poll_answer and each head through find_header. Properties: a response never spans more
// than the buffer, its body and headers lie inside it, parse_http_head agrees on the head, and
// the head limit holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "herald_wire.h"
#include "http_response.h"

namespace {

void check_inside(std::string_view outer, std::string_view inner) {
  if (!inner.empty() &&
      (inner.data() < outer.data() || inner.data() + inner.size() > outer.data() + outer.size())) {
    std::abort();
  }
}

}  // namespace

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
      std::string_view whole(buffer.data(), span);
      check_inside(whole, r.headers);
      check_inside(r.headers, herald::bench::find_header(r.headers, "Herald-Session"));
      herald::bench::HttpHead head;
      size_t head_size = herald::bench::parse_http_head(whole, &head, &error);
      if (head_size == 0 || head_size + r.body.size() != span || head.status != r.status ||
          head.headers != r.headers) {
        std::abort();
      }
      uint64_t cursor = 0;
      std::string_view lines;
      if (herald::bench::parse_poll_answer(r.body, &cursor, &lines) ==
          herald::bench::JsonError::kNone) {
        check_inside(r.body, lines);
      }
      buffer.erase(0, span);
    }
  }
  return 0;
}
