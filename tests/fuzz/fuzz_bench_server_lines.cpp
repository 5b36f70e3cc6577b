// Feeds arbitrary bytes as one WebSocket text frame from the server to the generator's readers:
// every line through parse_server_line, subscribe results and their publications, stamps, and
// a full walk of every value. Properties checked besides "no crash": a value that parse_value
// accepted walks without error, and every view lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "herald_wire.h"
#include "json_scan.h"

namespace {

using herald::bench::JsonError;
using herald::bench::JsonType;
using herald::bench::JsonValue;

void check_inside(std::string_view outer, std::string_view inner) {
  if (!inner.empty() &&
      (inner.data() < outer.data() || inner.data() + inner.size() > outer.data() + outer.size())) {
    std::abort();
  }
}

// Walks a validated value completely; any error is a bug of the reader.
void walk(std::string_view line, const JsonValue& v, int depth) {
  check_inside(line, v.raw);
  if (depth > herald::bench::kMaxJsonDepth + 1) {
    std::abort();
  }
  JsonError e = JsonError::kNone;
  if (v.type == JsonType::kObject) {
    e = herald::bench::for_each_member(v, [&](std::string_view key, const JsonValue& m) {
      check_inside(v.raw, key);
      walk(line, m, depth + 1);
      return true;
    });
  } else if (v.type == JsonType::kArray) {
    e = herald::bench::for_each_element(v, [&](const JsonValue& m) {
      walk(line, m, depth + 1);
      return true;
    });
  } else {
    uint64_t n = 0;
    (void)v.to_u64(&n);
  }
  if (e != JsonError::kNone) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  herald::bench::for_each_line(frame, [&](std::string_view line) {
    check_inside(frame, line);
    JsonValue top;
    if (herald::bench::parse_value(line, &top) == JsonError::kNone) {
      walk(line, top, 0);
    }
    herald::bench::ServerLine l;
    if (herald::bench::parse_server_line(line, &l) != JsonError::kNone) {
      return;
    }
    check_inside(line, l.push);
    check_inside(line, l.channel);
    check_inside(line, l.epoch);
    check_inside(line, l.data.raw);
    herald::bench::Stamp stamp;
    (void)herald::bench::read_stamp(l.data.string_body(), &stamp);
    herald::bench::SubscribeResult result;
    if (herald::bench::parse_subscribe_result(l.result, &result) != JsonError::kNone) {
      return;
    }
    herald::bench::for_each_element(result.publications, [&](const JsonValue& v) {
      herald::bench::PublicationView p;
      if (herald::bench::parse_publication(v, &p) == JsonError::kNone) {
        check_inside(line, p.epoch);
        (void)herald::bench::read_stamp(p.data.string_body(), &stamp);
      }
      return true;
    });
  });
  return 0;
}
