// Fuzzes ServerLineParser (apps/herald/server_lines.h), the reader of what a server sends to
// `herald sub`. Input: one line. Checks, for whatever parses:
//  - every data/info kept is valid JSON (what herald sub prints must parse again) and is a
//    verbatim piece of the input;
//  - a second parser that has just read other lines gives the same result (no state leaks);
//  - the input is one valid JSON object (checked again with simdjson's DOM).

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server_lines.h"

namespace {

using herald::app::Publication;
using herald::app::ServerLine;
using herald::app::ServerLineParser;

// True when s may hold a number beyond 64-bit integers (20+ digits) or doubles (an exponent of
// 3+ digits, as in 1e400).
bool may_hold_a_huge_number(std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    run = (s[i] >= '0' && s[i] <= '9') ? run + 1 : 0;
    if (run >= 20) {
      return true;
    }
    if (s[i] == 'e' || s[i] == 'E') {
      size_t j = i + 1;
      if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
        ++j;
      }
      size_t digits = 0;
      while (j + digits < s.size() && s[j + digits] >= '0' && s[j + digits] <= '9') {
        ++digits;
      }
      if (digits >= 3) {
        return true;
      }
    }
  }
  return false;
}

// Strict check of one JSON text. simdjson's DOM refuses numbers beyond 64-bit integers and
// doubles (NUMBER_ERROR), which are valid JSON that the parser forwards: that error counts as
// valid only when such a number may be present, so malformed numbers are still caught.
bool valid_json(std::string_view s) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(s);
  simdjson::dom::element root;
  simdjson::error_code e = parser.parse(padded).get(root);
  return e == simdjson::SUCCESS || (e == simdjson::NUMBER_ERROR && may_hold_a_huge_number(s));
}

void check_raw(std::string_view input, const std::string& raw, bool may_be_empty) {
  if (raw.empty()) {
    if (!may_be_empty) {
      std::abort();
    }
    return;
  }
  if (!valid_json(raw) || input.find(raw) == std::string_view::npos) {
    std::abort();
  }
  char first = raw.front();
  char last = raw.back();
  if (first == ' ' || first == '\n' || last == ' ' || last == '\n' || last == '\r' ||
      last == '\t') {
    std::abort();  // whitespace around the value is not part of it
  }
}

void check_publication(std::string_view input, const Publication& p, bool must_be_whole) {
  check_raw(input, p.data, !must_be_whole);
  check_raw(input, p.info, true);
  if (p.info == "null" || (must_be_whole && p.offset == 0)) {
    std::abort();
  }
}

bool same_publication(const Publication& a, const Publication& b) {
  return a.offset == b.offset && a.epoch == b.epoch && a.data == b.data && a.info == b.info;
}

bool same(const ServerLine& a, const ServerLine& b) {
  if (a.has_id != b.has_id || a.id != b.id || a.has_result != b.has_result ||
      a.has_error != b.has_error || a.error_code != b.error_code ||
      a.error_temporary != b.error_temporary || a.error_message != b.error_message ||
      a.epoch != b.epoch || a.offset != b.offset || a.recovered != b.recovered ||
      a.ping != b.ping || a.publication_count != b.publication_count || a.push != b.push ||
      a.channel != b.channel || a.code != b.code || a.reason != b.reason ||
      a.reconnect != b.reconnect || a.has_message != b.has_message ||
      !same_publication(a.message, b.message)) {
    return false;
  }
  for (size_t i = 0; i < a.publication_count; ++i) {
    if (!same_publication(a.publications[i], b.publications[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ServerLineParser reused;
  static ServerLine reused_line;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  ServerLineParser fresh;
  ServerLine line;
  bool ok = fresh.parse(input, line);

  // The static parser last read the previous input; it also reads a fixed busy line first.
  reused.parse(R"({"id":3,"result":{"epoch":"e","offset":9,"recovered":true,"ping":7,)"
               R"("publications":[{"offset":1,"data":1,"info":2},{"offset":2,"data":[3]}]},)"
               R"("push":"x","channel":"y","code":5,"reason":"r","reconnect":false,"offset":4,)"
               R"("data":{"a":1},"info":"i","error":{"code":1,"message":"m","temporary":true}})",
               reused_line);
  if (reused.parse(input, reused_line) != ok || (ok && !same(line, reused_line))) {
    std::abort();
  }
  if (!ok) {
    return 0;
  }
  if (line.publication_count > line.publications.size()) {
    std::abort();
  }
  for (size_t i = 0; i < line.publication_count; ++i) {
    check_publication(input, line.publications[i], true);
  }
  check_publication(input, line.message, false);
  // ondemand checks only what it reads; the parser walks the rest so that the whole line is JSON.
  std::string_view trimmed = input;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t' ||
                              trimmed.front() == '\r' || trimmed.front() == '\n')) {
    trimmed.remove_prefix(1);
  }
  if (!valid_json(input) || trimmed.empty() || trimmed.front() != '{') {
    std::abort();
  }
  return 0;
}
