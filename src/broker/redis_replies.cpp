#include "broker/redis_replies.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>

#include "broker/publisher_codec.h"

namespace herald::broker::redis_replies {

using resp::Reply;
using resp::Type;

namespace {

// One XRANGE entry: {"<offset>-0", {"d", data, "t", time, ["p", publisher]}}.
bool parse_entry(Reply& entry, PublicationRecord& out) {
  if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[1].is_array()) {
    return false;
  }
  std::string_view id = entry.elements[0].str;
  if (!to_u64(id.substr(0, id.find('-')), out.offset)) {
    return false;
  }
  auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    if (name == "d") {
      out.data = std::move(fields[i + 1].str);
    } else if (name == "t") {
      uint64_t t = 0;
      to_u64(fields[i + 1].str, t);
      out.time_ms = static_cast<int64_t>(t);
    } else if (name == "p") {
      out.publisher = unpack_publisher(fields[i + 1].str);
    }
  }
  return true;
}

}  // namespace

bool to_u64(std::string_view s, uint64_t& v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

uint64_t reply_u64(const Reply& r) {
  if (r.type == Type::kInteger) {
    return r.integer < 0 ? 0 : static_cast<uint64_t>(r.integer);
  }
  uint64_t v = 0;
  if (r.is_string()) {
    to_u64(r.str, v);
  }
  return v;
}

Error bad_reply(const char* what, const Reply& r) {
  if (r.is_error()) {
    return Error{std::string("redis: ") + what + ": " + r.str};
  }
  return Error{std::string("redis: unexpected reply to ") + what + ": " + r.debug_string()};
}

// The read script's answer: {epoch, top, first, entries}.
Result<HistoryResult> parse_history(Reply& r) {
  if (!r.is_array() || r.elements.size() != 4 || !r.elements[3].is_array()) {
    return bad_reply("history read", r);
  }
  HistoryResult out;
  out.top.epoch = r.elements[0].str;
  out.top.offset = reply_u64(r.elements[1]);
  out.top.first_offset = reply_u64(r.elements[2]);
  for (Reply& entry : r.elements[3].elements) {
    PublicationRecord rec;
    if (!parse_entry(entry, rec)) {
      return bad_reply("history read (entry)", entry);
    }
    out.publications.push_back(std::move(rec));
  }
  return out;
}

// A publication as the publish script PUBLISHes it:
// "p<epoch> <offset> <time> <publisher length> <publisher bytes><data>". Another program could
// write to our channels: anything malformed is dropped, never trusted.
bool parse_publication(std::string_view payload, std::string& epoch, PublicationRecord& rec) {
  payload.remove_prefix(1);
  auto next = [&payload](std::string_view& field) {
    size_t sp = payload.find(' ');
    if (sp == std::string_view::npos) {
      return false;
    }
    field = payload.substr(0, sp);
    payload.remove_prefix(sp + 1);
    return true;
  };
  std::string_view e, off, time, taken, len;
  uint64_t t = 0, taken_us = 0, n = 0;
  if (!next(e) || !next(off) || !next(time) || !next(taken) || !next(len) ||
      !to_u64(off, rec.offset) || !to_u64(time, t) || !to_u64(taken, taken_us) ||
      !to_u64(len, n) || n > payload.size() || e.empty()) {
    return false;
  }
  epoch.assign(e);
  rec.time_ms = static_cast<int64_t>(t);
  rec.published_ns = wall_us_to_steady_ns(taken_us);
  rec.publisher = unpack_publisher(payload.substr(0, n));
  rec.data.assign(payload.substr(n));
  return true;
}

uint64_t steady_ns_to_wall_us(int64_t steady_ns) {
  if (steady_ns <= 0) {
    return 0;
  }
  using namespace std::chrono;
  int64_t age_ns = duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count() -
                   steady_ns;
  int64_t wall_ns = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  int64_t us = (wall_ns - std::max<int64_t>(age_ns, 0)) / 1000;
  return us > 0 ? static_cast<uint64_t>(us) : 0;
}

int64_t wall_us_to_steady_ns(uint64_t wall_us) {
  if (wall_us == 0 || wall_us > static_cast<uint64_t>(INT64_MAX / 1000)) {
    return 0;
  }
  using namespace std::chrono;
  int64_t wall_ns = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  int64_t steady_ns = duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  // A taken time ahead of our clock (the other node's clock runs ahead) counts as now.
  int64_t age_ns = std::max<int64_t>(wall_ns - static_cast<int64_t>(wall_us) * 1000, 0);
  return steady_ns > age_ns ? steady_ns - age_ns : 0;
}

}  // namespace herald::broker::redis_replies
