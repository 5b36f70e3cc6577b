// Fuzzes http::RequestParser. Each input is parsed whole, split in two at a point derived from
// the input, and one byte at a time, with default and with tiny limits; every feeding must give
// the same outcome, and a completed head must satisfy the parser's promises (views inside the
// input, head_size within bounds). Pipelined requests after the first are parsed too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace {

using herald::http::Limits;
using herald::http::ParseError;
using herald::http::Request;
using herald::http::RequestParser;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

struct Outcome {
  RequestParser::Status status;
  ParseError error;
  size_t head_size = 0;
  std::string summary;  // every parsed field, so feedings can be compared
};

bool inside(std::string_view v, std::string_view in, size_t n) {
  return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + n);
}

Outcome finish(RequestParser& parser, RequestParser::Status status, std::string_view in,
               const Request& req, const Limits& limits) {
  Outcome o{status, parser.error(), 0, {}};
  FUZZ_CHECK((status == RequestParser::Status::kError) == (o.error != ParseError::kNone));
  if (status == RequestParser::Status::kError) {
    int code = herald::http::status_for(o.error);
    FUZZ_CHECK(code >= 400 && code < 600);
    FUZZ_CHECK(!herald::http::describe(o.error).empty());
  }
  if (status != RequestParser::Status::kComplete) {
    return o;
  }
  size_t n = req.head_size;
  FUZZ_CHECK(n >= 2 && n <= in.size() && n <= limits.max_head_bytes);
  FUZZ_CHECK(in[n - 1] == '\n');
  FUZZ_CHECK(req.header_count <= limits.max_headers);
  FUZZ_CHECK(!req.method_text.empty() && inside(req.method_text, in, n));
  FUZZ_CHECK(!req.target.empty() && inside(req.target, in, n));
  FUZZ_CHECK(inside(req.path, in, n) || req.path == "/");
  FUZZ_CHECK(inside(req.query, in, n));
  FUZZ_CHECK(req.version_minor <= 1);
  FUZZ_CHECK(!(req.chunked && req.has_content_length));
  FUZZ_CHECK(req.content_length <= limits.max_body);
  o.head_size = n;
  o.summary.append(req.method_text).append("|").append(req.target).append("|");
  o.summary.append(req.path).append("|").append(req.query).append("|");
  for (size_t i = 0; i < req.header_count; ++i) {
    FUZZ_CHECK(!req.headers[i].name.empty());
    FUZZ_CHECK(inside(req.headers[i].name, in, n) && inside(req.headers[i].value, in, n));
    o.summary.append(req.headers[i].name).append(":").append(req.headers[i].value).append("|");
  }
  o.summary.push_back(static_cast<char>('0' + req.version_minor));
  o.summary.push_back(req.keep_alive ? 'k' : '-');
  o.summary.push_back(req.chunked ? 'c' : '-');
  o.summary.push_back(req.connection_upgrade ? 'u' : '-');
  o.summary.append(std::to_string(req.content_length));
  return o;
}

Outcome whole(std::string_view in, const Limits& limits, Request& req) {
  RequestParser parser(limits);
  return finish(parser, parser.parse(in, req), in, req, limits);
}

// Feeds the prefixes given by `cuts` (ascending), then the whole input, via a growing buffer.
template <typename NextCut>
Outcome incremental(std::string_view in, const Limits& limits, Request& req, NextCut next_cut) {
  RequestParser parser(limits);
  std::string buf;
  RequestParser::Status status = RequestParser::Status::kNeedMore;
  size_t pos = 0;
  while (status == RequestParser::Status::kNeedMore) {
    size_t cut = std::min(next_cut(pos), in.size());
    buf.append(in.substr(pos, cut - pos));
    pos = cut;
    status = parser.parse(buf, req);
    if (pos == in.size()) {
      break;
    }
  }
  return finish(parser, status, buf, req, limits);
}

void check_same(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.status == b.status);
  FUZZ_CHECK(a.error == b.error);
  FUZZ_CHECK(a.head_size == b.head_size);
  FUZZ_CHECK(a.summary == b.summary);
}

void run(std::string_view in, const Limits& limits, size_t split) {
  Request req;
  Outcome w = whole(in, limits, req);
  check_same(
      w, incremental(in, limits, req, [&](size_t pos) { return pos < split ? split : in.size(); }));
  if (in.size() <= 4096) {
    check_same(w, incremental(in, limits, req, [](size_t pos) { return pos + 1; }));
  }
  // Pipelining: after a complete head (and its Content-Length body), parse what follows.
  std::string_view rest = in;
  RequestParser parser(limits);
  for (int i = 0; i < 8; ++i) {
    RequestParser::Status s = parser.parse(rest, req);
    finish(parser, s, rest, req, limits);
    if (s != RequestParser::Status::kComplete) {
      break;
    }
    uint64_t skip = req.head_size + req.content_length;
    if (skip > rest.size()) {
      break;
    }
    rest.remove_prefix(static_cast<size_t>(skip));
    parser.reset();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  uint32_t h = 2166136261u;  // FNV-1a picks a split point that varies with the input
  for (size_t i = 0; i < size; ++i) {
    h = (h ^ data[i]) * 16777619u;
  }
  size_t split = size == 0 ? 0 : h % (size + 1);

  run(in, Limits{}, split);

  Limits tiny;
  tiny.max_head_bytes = 200;
  tiny.max_headers = 4;
  tiny.max_request_line = 48;
  tiny.max_header_line = 40;
  tiny.max_body = 64;
  tiny.allow_bare_lf = (h & 1) != 0;
  run(in, tiny, split);
  return 0;
}
