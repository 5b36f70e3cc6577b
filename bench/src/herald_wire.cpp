#include "herald_wire.h"

namespace herald::bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_hex(char* out, uint64_t v) {
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[v & 0xF];
    v >>= 4;
  }
}

bool get_hex(std::string_view in, uint64_t* out) {
  uint64_t v = 0;
  for (char c : in) {
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *out = v;
  return true;
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<size_t>(end - p));
}

// Channel names of the generator are plain ASCII without quotes or backslashes (the channel
// grammar forbids them), so they are written between quotes as they are.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  out.append(s);
  out.push_back('"');
}

bool get_bool(const JsonValue& v, bool* out) {
  if (v.type != JsonType::kBool) {
    return false;
  }
  *out = v.raw == "true";
  return true;
}

}  // namespace

void write_stamp(char* out, const Stamp& stamp) {
  out[0] = 'H';
  out[1] = 'B';
  put_hex(out + 2, stamp.seq);
  put_hex(out + 18, stamp.sent_ns);
}

bool read_stamp(std::string_view body, Stamp* out) {
  if (body.size() < kStampSize || body[0] != 'H' || body[1] != 'B') {
    return false;
  }
  return get_hex(body.substr(2, 16), &out->seq) && get_hex(body.substr(18, 16), &out->sent_ns);
}

std::string make_data_body(size_t size) {
  std::string body(size < kStampSize ? kStampSize : size, 'x');
  write_stamp(body.data(), Stamp{});
  return body;
}

void append_connect(std::string& out, uint32_t id) {
  out.append("{\"id\":");
  append_uint(out, id);
  out.append(",\"method\":\"connect\",\"params\":{\"name\":\"herald-bench\"}}");
}

void append_subscribe(std::string& out, uint32_t id, std::string_view channel) {
  out.append("{\"id\":");
  append_uint(out, id);
  out.append(",\"method\":\"subscribe\",\"params\":{\"channel\":");
  append_quoted(out, channel);
  out.append("}}");
}

void append_subscribe_since(std::string& out, uint32_t id, std::string_view channel,
                            uint64_t since_offset, std::string_view since_epoch) {
  out.append("{\"id\":");
  append_uint(out, id);
  out.append(",\"method\":\"subscribe\",\"params\":{\"channel\":");
  append_quoted(out, channel);
  out.append(",\"since\":{\"offset\":");
  append_uint(out, since_offset);
  out.append(",\"epoch\":");
  append_quoted(out, since_epoch);
  out.append("}}}");
}

void append_publish(std::string& out, uint32_t id, std::string_view channel,
                    std::string_view data_body) {
  out.append("{\"id\":");
  append_uint(out, id);
  out.append(",\"method\":\"publish\",\"params\":{\"channel\":");
  append_quoted(out, channel);
  out.append(",\"data\":");
  append_quoted(out, data_body);
  out.append("}}");
}

void append_api_publish(std::string& out, std::string_view channel, std::string_view data_body) {
  out.append("{\"channel\":");
  append_quoted(out, channel);
  out.append(",\"data\":");
  append_quoted(out, data_body);
  out.push_back('}');
}

JsonError parse_server_line(std::string_view line, ServerLine* out) {
  *out = ServerLine{};
  JsonValue top;
  if (JsonError e = parse_value(line, &top); e != JsonError::kNone) {
    return e;
  }
  if (top.type != JsonType::kObject) {
    return JsonError::kWrongType;
  }
  bool has_id = false;
  bool bad = false;
  JsonError e = for_each_member(top, [&](std::string_view key, const JsonValue& v) {
    if (key == "id") {
      has_id = v.to_u64(&out->id);
      bad = !has_id;
    } else if (key == "result") {
      out->result = v;
    } else if (key == "error") {
      out->is_error = true;
      if (v.type != JsonType::kObject) {
        bad = true;
        return false;
      }
      for_each_member(v, [&](std::string_view k, const JsonValue& ev) {
        if (k == "code") {
          ev.to_u64(&out->error_code);
        }
        return true;
      });
    } else if (key == "push") {
      out->push = v.string_body();
      bad = v.type != JsonType::kString;
    } else if (key == "channel") {
      out->channel = v.string_body();
    } else if (key == "offset") {
      v.to_u64(&out->offset);
    } else if (key == "epoch") {
      out->epoch = v.string_body();
    } else if (key == "data") {
      out->data = v;
    }
    return !bad;
  });
  if (e != JsonError::kNone) {
    return e;
  }
  if (bad) {
    return JsonError::kWrongType;
  }
  if (has_id) {
    out->kind = ServerLine::Kind::kReply;
  } else if (!out->push.empty()) {
    out->kind = ServerLine::Kind::kPush;
  }
  return JsonError::kNone;
}

JsonError parse_subscribe_result(const JsonValue& result, SubscribeResult* out) {
  *out = SubscribeResult{};
  bool bad = false;
  JsonError e = for_each_member(result, [&](std::string_view key, const JsonValue& v) {
    if (key == "epoch") {
      bad = v.type != JsonType::kString;
      out->epoch = v.string_body();
    } else if (key == "offset") {
      bad = !v.to_u64(&out->offset);
    } else if (key == "recoverable") {
      bad = !get_bool(v, &out->recoverable);
    } else if (key == "recovered") {
      bad = !get_bool(v, &out->recovered);
    } else if (key == "publications") {
      bad = v.type != JsonType::kArray;
      out->publications = v;
    }
    return !bad;
  });
  if (e != JsonError::kNone) {
    return e;
  }
  return bad || out->publications.type != JsonType::kArray ? JsonError::kWrongType
                                                           : JsonError::kNone;
}

JsonError parse_publication(const JsonValue& value, PublicationView* out) {
  *out = PublicationView{};
  bool bad = false;
  bool has_offset = false;
  JsonError e = for_each_member(value, [&](std::string_view key, const JsonValue& v) {
    if (key == "offset") {
      has_offset = v.to_u64(&out->offset);
      bad = !has_offset;
    } else if (key == "epoch") {
      out->epoch = v.string_body();
    } else if (key == "data") {
      out->data = v;
    }
    return !bad;
  });
  if (e != JsonError::kNone) {
    return e;
  }
  return bad || !has_offset ? JsonError::kWrongType : JsonError::kNone;
}

JsonError parse_poll_answer(std::string_view body, uint64_t* cursor, std::string_view* lines) {
  size_t nl = body.find('\n');
  JsonValue head;
  if (JsonError e = parse_value(body.substr(0, nl), &head); e != JsonError::kNone) {
    return e;
  }
  bool has_cursor = false;
  JsonError e = for_each_member(head, [&](std::string_view key, const JsonValue& v) {
    if (key == "cursor") {
      has_cursor = v.to_u64(cursor);
      return false;
    }
    return true;
  });
  if (e != JsonError::kNone) {
    return e;
  }
  if (!has_cursor) {
    return JsonError::kWrongType;
  }
  *lines = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
  return JsonError::kNone;
}

}  // namespace herald::bench
