// Fuzzes http::ChunkedDecoder. Each input is decoded whole, split in two at a point derived from
// the input, and in pieces of varying size; every feeding must give the same status, error,
// body and consumed count, and the body must respect the cap.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/chunked_decoder.h"

namespace {

using herald::http::ChunkedDecoder;
using herald::http::Limits;
using herald::http::ParseError;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

struct Outcome {
  ChunkedDecoder::Status status = ChunkedDecoder::Status::kNeedMore;
  ParseError error = ParseError::kNone;
  size_t consumed = 0;
  std::string body;
};

template <typename NextCut>
Outcome decode(std::string_view in, const Limits& limits, NextCut next_cut) {
  ChunkedDecoder d(limits);
  Outcome o;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t cut = next_cut(pos);
    size_t used = 0;
    std::string_view piece = in.substr(pos, cut - pos);
    o.status = d.feed(piece, used, o.body);
    FUZZ_CHECK(used <= piece.size());
    if (o.status == ChunkedDecoder::Status::kNeedMore) {
      FUZZ_CHECK(used == piece.size());
    }
    pos += used;
    if (o.status != ChunkedDecoder::Status::kNeedMore) {
      break;
    }
  }
  o.error = d.error();
  o.consumed = o.status == ChunkedDecoder::Status::kDone ? pos : 0;
  FUZZ_CHECK((o.status == ChunkedDecoder::Status::kError) == (o.error != ParseError::kNone));
  FUZZ_CHECK(o.body.size() <= limits.max_body);
  FUZZ_CHECK(d.body_size() >= o.body.size());  // declared size of the chunk being read counts
  if (o.status == ChunkedDecoder::Status::kDone) {
    FUZZ_CHECK(d.body_size() == o.body.size());
    FUZZ_CHECK(o.consumed >= 5 && in.substr(o.consumed - 2, 2) == "\r\n");
  }
  return o;
}

void check_same(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.error == b.error);
  FUZZ_CHECK(a.consumed == b.consumed);
  FUZZ_CHECK(a.body == b.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; ++i) {
    h = (h ^ data[i]) * 16777619u;
  }
  size_t split = size == 0 ? 0 : h % (size + 1);
  Limits limits;
  limits.max_body = 4096;
  limits.max_header_line = 256;

  Outcome whole = decode(in, limits, [&](size_t) { return in.size(); });
  check_same(whole,
             decode(in, limits, [&](size_t pos) { return pos < split ? split : in.size(); }));
  check_same(whole, decode(in, limits, [&](size_t pos) {
               return std::min(in.size(), pos + 1 + ((h >> (pos % 24)) & 7));
             }));
  if (size <= 4096) {
    check_same(whole, decode(in, limits, [](size_t pos) { return pos + 1; }));
  }
  return 0;
}
