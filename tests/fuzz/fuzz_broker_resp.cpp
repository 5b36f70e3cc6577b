// Fuzzes broker::resp::Parser, the RESP2 reply parser of the Redis client. Each input is parsed
// whole and in pieces of sizes derived from its first byte; every feeding must give the same
// replies and the same error. Every reply re-encoded (as RESP) and parsed again gives itself back,
// and the small limits used here are never passed by what comes out.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "broker/resp.h"

namespace {

using herald::broker::resp::Limits;
using herald::broker::resp::Parser;
using herald::broker::resp::Reply;
using herald::broker::resp::RespError;
using herald::broker::resp::Type;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

Limits small_limits() {
  Limits l;
  l.max_line = 256;
  l.max_bulk = 4096;
  l.max_array = 64;
  l.max_depth = 4;
  return l;
}

struct Outcome {
  std::vector<std::string> replies;
  RespError error = RespError::kNone;
};

Outcome parse(std::string_view in, size_t piece, std::vector<Reply>* keep = nullptr) {
  Parser parser(small_limits());
  Outcome o;
  std::vector<Reply> out;
  for (size_t pos = 0; pos < in.size(); pos += piece) {
    o.error = parser.feed(in.substr(pos, piece), out);
  }
  for (const Reply& r : out) {
    o.replies.push_back(r.debug_string());
  }
  if (keep != nullptr) {
    *keep = std::move(out);
  }
  return o;
}

// The reply as RESP bytes (what Redis would have sent).
void encode(const Reply& r, std::string& out) {
  switch (r.type) {
    case Type::kSimpleString:
      out += "+" + r.str + "\r\n";
      break;
    case Type::kError:
      out += "-" + r.str + "\r\n";
      break;
    case Type::kInteger:
      out += ":" + std::to_string(r.integer) + "\r\n";
      break;
    case Type::kBulkString:
      out += "$" + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
      break;
    case Type::kNull:
      out += "$-1\r\n";
      break;
    case Type::kArray:
      out += "*" + std::to_string(r.elements.size()) + "\r\n";
      for (const Reply& e : r.elements) {
        encode(e, out);
      }
      break;
  }
}

size_t depth(const Reply& r) {
  size_t d = 0;
  for (const Reply& e : r.elements) {
    d = std::max(d, depth(e));
  }
  return r.type == Type::kArray ? d + 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<Reply> replies;
  Outcome whole = parse(in, in.empty() ? 1 : in.size(), &replies);
  size_t piece = size == 0 ? 1 : 1 + data[0] % 7;
  Outcome pieces = parse(in, piece);
  FUZZ_CHECK(pieces.replies == whole.replies);
  FUZZ_CHECK(pieces.error == whole.error);
  Outcome bytes = parse(in, 1);
  FUZZ_CHECK(bytes.replies == whole.replies);
  FUZZ_CHECK(bytes.error == whole.error);
  Limits limits = small_limits();
  for (const Reply& r : replies) {
    FUZZ_CHECK(depth(r) <= limits.max_depth);
    FUZZ_CHECK(r.str.size() <= limits.max_bulk);
    std::string again;
    encode(r, again);
    std::vector<Reply> back;
    Outcome round = parse(again, again.size(), &back);
    FUZZ_CHECK(round.error == RespError::kNone);
    FUZZ_CHECK(round.replies.size() == 1 && round.replies[0] == r.debug_string());
  }
  return 0;
}
