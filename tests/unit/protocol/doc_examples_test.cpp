// Reads docs/PROTOCOL.md and checks every example and code table against the code, so the
// contract and the implementation cannot drift apart:
//  * "→ X": X is decoded as a client frame;
//  * "← X" with an id: the reply to the pending command with that id; a decode error must be
//    exactly append_error() of it, a result exactly what the encoders write for its fields;
//  * "← X" with "push": exactly what the push encoder writes for its fields;
//  * "POST /api/M BODY" then "← STATUS X": decoded by ApiDecoder, status and body checked;
//  * the error, disconnect and unsubscribe code tables equal the enums, both ways.
// This checks encodings only; what the history examples select (which end, how many) is checked
// against a broker in tests/unit/server/history_query_test.cpp.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/api_decoder.h"
#include "protocol/command_decoder.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace herald::protocol {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kClient = "\xE2\x86\x92 ";  // "→ "
constexpr std::string_view kServer = "\xE2\x86\x90 ";  // "← "

std::vector<std::string> read_doc_lines() {
  std::ifstream in(HERALD_PROTOCOL_DOC);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

// Re-encodes parsed JSON values through the encoders. Strings live in `store` (stable).
class Reencoder {
 public:
  std::string_view keep(std::string s) { return store_.emplace_back(std::move(s)); }

  std::string_view str(element e, std::string_view key) {
    std::string_view v;
    EXPECT_EQ(e[key].get_string().get(v), simdjson::SUCCESS) << key;
    return keep(std::string(v));
  }
  uint64_t num(element e, std::string_view key) {
    uint64_t v = 0;
    EXPECT_EQ(e[key].get_uint64().get(v), simdjson::SUCCESS) << key;
    return v;
  }
  bool boolean(element e, std::string_view key) {
    bool v = false;
    EXPECT_EQ(e[key].get_bool().get(v), simdjson::SUCCESS) << key;
    return v;
  }
  bool has(element e, std::string_view key) { return e[key].error() == simdjson::SUCCESS; }
  std::string_view raw(element e) { return keep(simdjson::minify(e)); }

  ClientInfoView client_info(element e) {
    ClientInfoView c{str(e, "user"), str(e, "client"), {}};
    if (has(e, "info")) {
      c.info_json = raw(e["info"].value_unsafe());
    }
    return c;
  }

  PublicationView publication(element e) {
    PublicationView p;
    p.offset = num(e, "offset");
    p.epoch = str(e, "epoch");
    p.data_json = raw(e["data"].value_unsafe());
    if (has(e, "info")) {
      p.info = &infos_.emplace_back(client_info(e["info"].value_unsafe()));
    }
    if (has(e, "time")) {
      p.time_ms = static_cast<int64_t>(num(e, "time"));
    }
    return p;
  }

  std::vector<PublicationView> publications(element e) {
    std::vector<PublicationView> out;
    simdjson::dom::array arr;
    EXPECT_EQ(e["publications"].get_array().get(arr), simdjson::SUCCESS);
    for (element p : arr) {
      out.push_back(publication(p));
    }
    return out;
  }

  std::vector<ClientInfoView> presence(element result) {
    std::vector<ClientInfoView> out;
    object clients;
    EXPECT_EQ(result["clients"].get_object().get(clients), simdjson::SUCCESS);
    for (auto kv : clients) {
      out.push_back(client_info(kv.value));
      EXPECT_EQ(out.back().client, kv.key);
    }
    return out;
  }

  // The result object of a command, as the encoders write it.
  std::string result(std::string_view method, element r) {
    std::string out;
    if (method == "connect") {
      EXPECT_EQ(num(r, "protocol"), kProtocolVersion);
      append_connect_result(out, str(r, "client"), str(r, "version"),
                            static_cast<uint32_t>(num(r, "ping")), boolean(r, "pong"),
                            has(r, "session") ? str(r, "session") : std::string_view(),
                            has(r, "ttl") ? num(r, "ttl") : 0);
    } else if (method == "refresh") {
      append_refresh_result(out, has(r, "ttl") ? num(r, "ttl") : 0);
    } else if (method == "subscribe") {
      auto pubs = publications(r);
      append_subscribe_result(out, str(r, "epoch"), num(r, "offset"), boolean(r, "recoverable"),
                              boolean(r, "recovered"), pubs);
    } else if (method == "publish") {
      append_publish_result(out, num(r, "offset"), str(r, "epoch"));
    } else if (method == "history") {
      auto pubs = publications(r);
      append_history_result(out, pubs, num(r, "offset"), str(r, "epoch"));
    } else if (method == "presence") {
      auto clients = presence(r);
      append_presence_result(out, clients);
    } else if (method == "presence_stats") {
      append_presence_stats_result(out, num(r, "num_clients"), num(r, "num_users"));
    } else {
      out = raw(r);  // no encoder (ping, unsubscribe, broadcast, channels, ...): keep as is
    }
    return out;
  }

  std::string push(element p) {
    std::string type(str(p, "push"));
    std::string out;
    if (type == "message") {
      append_message_push(out, str(p, "channel"), publication(p));
    } else if (type == "join" || type == "leave") {
      ClientInfoView info = client_info(p["info"].value_unsafe());
      if (type == "join") {
        append_join_push(out, str(p, "channel"), info);
      } else {
        append_leave_push(out, str(p, "channel"), info);
      }
    } else if (type == "unsubscribe") {
      append_unsubscribe_push(out, str(p, "channel"), static_cast<UnsubscribeCode>(num(p, "code")),
                              str(p, "reason"));
    } else if (type == "disconnect") {
      append_disconnect_push(out, static_cast<DisconnectCode>(num(p, "code")), str(p, "reason"));
    } else {
      ADD_FAILURE() << "unknown push type " << type;
    }
    return out;
  }

 private:
  std::deque<std::string> store_;
  std::deque<ClientInfoView> infos_;
};

bool known_error_code(uint64_t code) {
  for (ErrorCode c : kAllErrorCodes) {
    if (code_value(c) == code) {
      return true;
    }
  }
  return false;
}

// An error object from the doc for a command the decoder accepted: a server-side error, with
// the message the doc shows (servers add details after the default message, e.g. "token:
// expired"; the code's "temporary" flag must be the enum's).
std::string hub_error_body(element err) {
  uint64_t code = 0;
  EXPECT_EQ(err["code"].get_uint64().get(code), simdjson::SUCCESS);
  EXPECT_TRUE(known_error_code(code)) << code;
  std::string_view message;
  EXPECT_EQ(err["message"].get_string().get(message), simdjson::SUCCESS);
  std::string out;
  append_error_object(out, static_cast<ErrorCode>(code),
                      message == error_message(static_cast<ErrorCode>(code)) ? std::string_view()
                                                                              : message);
  return out;
}

struct Pending {
  size_t line;
  std::string method;  // for commands
  DecodedCommand decoded;
};

uint32_t id_of(const DecodedCommand& d) {
  if (const auto* c = std::get_if<Command>(&d)) {
    return c->id;
  }
  return std::get<DecodeError>(d).id;
}

TEST(DocExamples, ClientMessagesMatchTheCodecByteForByte) {
  auto lines = read_doc_lines();
  ASSERT_GT(lines.size(), 100u) << "cannot read " << HERALD_PROTOCOL_DOC;
  CommandDecoder decoder;
  ApiDecoder api;
  Reencoder re;
  simdjson::dom::parser parser;
  std::vector<Pending> pending;
  std::optional<ApiDecoded> api_pending;
  std::string api_method;
  size_t clients = 0, replies = 0, pushes = 0, api_requests = 0;

  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    SCOPED_TRACE(std::string("PROTOCOL.md line ") + std::to_string(n + 1) + ": " + line);
    std::string_view text(line);
    if (text.starts_with(kClient)) {
      std::vector<DecodedCommand> out;
      decoder.decode(text.substr(kClient.size()), out);
      ASSERT_EQ(out.size(), 1u);
      std::string method;
      if (const auto* c = std::get_if<Command>(&out[0])) {
        method = method_name(c->method);
      }
      pending.push_back({n, method, std::move(out[0])});
      ++clients;
      continue;
    }
    if (text.starts_with("POST /api/")) {
      std::string_view rest = text.substr(10);
      size_t sp = rest.find(' ');
      api_method = std::string(rest.substr(0, sp));
      std::string_view body = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
      if (api_method == "batch") {
        std::vector<ApiDecoded> items;
        auto whole = api.decode_batch(body, items);
        if (whole) {
          api_pending = ApiDecoded(*whole);
        } else {
          // Keep the items in a synthetic ApiCommand list: checked against "replies" below.
          api_pending.reset();
          std::string next = lines[n + 1];
          ASSERT_TRUE(std::string_view(next).starts_with(std::string(kServer) + "200 "));
          std::string_view resp = std::string_view(next).substr(kServer.size() + 4);
          simdjson::padded_string padded(resp);
          element root;
          ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS);
          simdjson::dom::array replies_arr;
          ASSERT_EQ(root["replies"].get_array().get(replies_arr), simdjson::SUCCESS);
          ASSERT_EQ(replies_arr.size(), items.size());
          std::string rebuilt = "{\"replies\":[";
          size_t i = 0;
          for (element r : replies_arr) {
            if (i > 0) {
              rebuilt += ",";
            }
            if (const auto* e = std::get_if<ApiError>(&items[i])) {
              append_api_error(rebuilt, e->code, e->message);
            } else {
              const auto& cmd = std::get<ApiCommand>(items[i]);
              std::string result =
                  re.result(api_method_name(cmd.method), r["result"].value_unsafe());
              append_api_result(rebuilt, result);
            }
            ++i;
          }
          rebuilt += "]}";
          EXPECT_EQ(rebuilt, resp);
          ++n;
          ++api_requests;
          continue;
        }
      } else {
        api_pending = api.decode(api_method, body);
      }
      ++api_requests;
      continue;
    }
    if (!text.starts_with(kServer)) {
      continue;
    }
    std::string_view msg = text.substr(kServer.size());
    if (api_pending) {
      // "← STATUS BODY"
      size_t sp = msg.find(' ');
      int status = std::stoi(std::string(msg.substr(0, sp)));
      std::string_view body = msg.substr(sp + 1);
      simdjson::padded_string padded(body);
      element root;
      ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS);
      std::string expected;
      if (const auto* e = std::get_if<ApiError>(&*api_pending)) {
        EXPECT_EQ(status, http_status(e->code));
        append_api_error(expected, e->code, e->message);
      } else if (status == 200) {
        append_api_result(expected, re.result(api_method, root["result"].value_unsafe()));
      } else {
        element err = root["error"].value_unsafe();
        expected = "{\"error\":" + hub_error_body(err) + "}";
        uint64_t code = re.num(err, "code");
        EXPECT_EQ(status, http_status(static_cast<ErrorCode>(code)));
      }
      EXPECT_EQ(expected, body);
      api_pending.reset();
      continue;
    }
    simdjson::padded_string padded(msg);
    element root;
    ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS) << "not JSON";
    if (re.has(root, "push")) {
      EXPECT_EQ(re.push(root), msg);
      ++pushes;
      continue;
    }
    uint64_t id = re.num(root, "id");
    auto it = std::find_if(pending.begin(), pending.end(),
                           [&](const Pending& p) { return id_of(p.decoded) == id; });
    ASSERT_NE(it, pending.end()) << "reply to no pending command";
    std::string expected;
    if (const auto* e = std::get_if<DecodeError>(&it->decoded)) {
      append_error(expected, e->id, e->code, e->message);
    } else if (re.has(root, "error")) {
      expected = std::string("{\"id\":") + std::to_string(id) +
                 ",\"error\":" + hub_error_body(root["error"].value_unsafe()) + "}";
    } else {
      append_reply(expected, static_cast<uint32_t>(id),
                   re.result(it->method, root["result"].value_unsafe()));
    }
    EXPECT_EQ(expected, msg);
    pending.erase(it);
    ++replies;
  }
  for (const Pending& p : pending) {
    ADD_FAILURE() << "PROTOCOL.md line " << p.line + 1 << ": command without a reply";
  }
  EXPECT_FALSE(api_pending.has_value()) << "API request without a response";
  // The doc shows every method, push type and a good share of errors.
  EXPECT_GE(clients, 25u);
  EXPECT_EQ(clients, replies);
  EXPECT_GE(pushes, 9u);
  EXPECT_GE(api_requests, 15u);
}

// | code | name | ... rows under a heading, as cells.
std::map<uint64_t, std::vector<std::string>> table_rows(const std::vector<std::string>& lines,
                                                        std::string_view heading) {
  std::map<uint64_t, std::vector<std::string>> rows;
  bool in_section = false;
  for (const std::string& line : lines) {
    if (line.starts_with("#")) {
      in_section = line == heading;
      continue;
    }
    if (!in_section || !line.starts_with("| ") || line.size() < 3 || line[2] < '0' ||
        line[2] > '9') {
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) {
      size_t b = cell.find_first_not_of(' ');
      size_t e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    rows[std::stoull(cells[0])] = cells;
  }
  return rows;
}

TEST(DocExamples, ErrorCodeTableEqualsTheEnum) {
  auto rows = table_rows(read_doc_lines(), "### Error codes");
  ASSERT_EQ(rows.size(), std::size(kAllErrorCodes));
  std::set<std::string_view> names;
  for (ErrorCode c : kAllErrorCodes) {
    SCOPED_TRACE(code_value(c));
    ASSERT_TRUE(rows.count(code_value(c)));
    const auto& cells = rows[code_value(c)];
    ASSERT_GE(cells.size(), 5u);
    EXPECT_EQ(cells[1], error_name(c));
    EXPECT_EQ(cells[2], std::to_string(http_status(c)));
    EXPECT_EQ(cells[3], is_temporary(c) ? "yes" : "no");
    EXPECT_TRUE(names.insert(error_name(c)).second) << "duplicate name";
  }
}

TEST(DocExamples, DisconnectCodeTableEqualsTheEnum) {
  auto rows = table_rows(read_doc_lines(), "### Disconnect code table");
  ASSERT_EQ(rows.size(), std::size(kAllDisconnectCodes));
  for (DisconnectCode c : kAllDisconnectCodes) {
    auto v = static_cast<uint16_t>(c);
    SCOPED_TRACE(v);
    ASSERT_TRUE(rows.count(v));
    const auto& cells = rows[v];
    ASSERT_GE(cells.size(), 4u);
    EXPECT_EQ(cells[1], disconnect_reason(c));
    EXPECT_EQ(cells[2], should_reconnect(v) ? "yes" : "no");
  }
}

TEST(DocExamples, UnsubscribeCodeTableEqualsTheEnum) {
  auto rows = table_rows(read_doc_lines(), "### Unsubscribe code table");
  ASSERT_EQ(rows.size(), std::size(kAllUnsubscribeCodes));
  for (UnsubscribeCode c : kAllUnsubscribeCodes) {
    auto v = static_cast<uint16_t>(c);
    SCOPED_TRACE(v);
    ASSERT_TRUE(rows.count(v));
    const auto& cells = rows[v];
    ASSERT_GE(cells.size(), 4u);
    EXPECT_EQ(cells[1], unsubscribe_reason(c));
    EXPECT_EQ(cells[2], should_resubscribe(v) ? "yes" : "no");
  }
}

TEST(DocExamples, LimitsTableShowsTheDefaults) {
  // The doc states these defaults in prose and in the limits table; keep them in step.
  Limits l;
  EXPECT_EQ(l.max_frame, 1u << 20);
  EXPECT_EQ(l.max_commands_per_frame, 128u);
  EXPECT_EQ(l.max_command, 80u << 10);
  EXPECT_EQ(l.max_data, 64u << 10);
  EXPECT_EQ(l.max_channel, 255u);
  EXPECT_EQ(l.max_token, 8u << 10);
  EXPECT_EQ(l.max_string, 255u);
  EXPECT_EQ(l.max_depth, 32u);
  EXPECT_EQ(l.max_api_body, 4u << 20);
  EXPECT_EQ(l.max_batch_commands, 1000u);
  EXPECT_EQ(l.max_broadcast_channels, 1000u);
}

}  // namespace
}  // namespace herald::protocol
