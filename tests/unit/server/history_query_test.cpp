#include "server/history_query.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../broker/loop_threads.h"
#include "broker/memory_broker.h"
#include "protocol/api_decoder.h"
#include "protocol/command_decoder.h"

namespace herald::server {
namespace {

using broker::HistoryQuery;
using protocol::ErrorCode;
using protocol::StreamPosition;

TEST(HistoryQuery, ParamsBecomeTheBrokersQuery) {
  struct Case {
    std::optional<StreamPosition> since;
    std::optional<uint32_t> limit;
    bool reverse;
    uint64_t after, before;
    size_t query_limit;
  };
  constexpr uint64_t kNewest = HistoryQuery::kNewest;
  constexpr size_t kAll = HistoryQuery::kNoLimit;
  const StreamPosition at4{4, "E"};
  const Case cases[] = {
      {{}, {}, false, 0, kNewest, kAll},     // everything, oldest first
      {{}, {}, true, 0, kNewest, kAll},      // everything, newest first
      {at4, {}, false, 4, kNewest, kAll},    // after 4
      {at4, {}, true, 0, 4, kAll},           // before 4
      {{}, 0u, false, 0, kNewest, 0},        // the position only
      {{}, 0u, true, 0, kNewest, 0},         // the position only
      {{}, 2u, true, 0, kNewest, 2},         // the newest 2
      {at4, 2u, true, 0, 4, 2},              // the 2 just before 4
      {at4, 2u, false, 4, kNewest, 2},       // the 2 just after 4
  };
  for (const Case& c : cases) {
    HistoryQuery q = history_query(c.since, c.limit, c.reverse);
    SCOPED_TRACE(std::string(c.reverse ? "reverse" : "forward") +
                 (c.since ? " since 4" : "") +
                 (c.limit ? " limit " + std::to_string(*c.limit) : ""));
    EXPECT_EQ(q.reverse, c.reverse);
    EXPECT_EQ(q.after, c.after);
    EXPECT_EQ(q.before, c.before);
    EXPECT_EQ(q.limit, c.query_limit);
  }
}

TEST(HistoryQuery, ErrorsOfAnAnswer) {
  broker::HistoryResult kept;  // offsets 5..9 of epoch E kept
  kept.top = broker::StreamTop{"E", 9, 5};
  EXPECT_EQ(history_error(std::nullopt, Result<broker::HistoryResult>(Error{"disk"})),
            ErrorCode::kUnavailable);
  EXPECT_EQ(history_error(std::nullopt, kept), std::nullopt);
  EXPECT_EQ(history_error(StreamPosition{4, "E"}, kept), std::nullopt) << "5 is the next";
  EXPECT_EQ(history_error(StreamPosition{9, "E"}, kept), std::nullopt);
  EXPECT_EQ(history_error(StreamPosition{3, "E"}, kept), ErrorCode::kUnrecoverablePosition)
      << "offset 4 is gone";
  EXPECT_EQ(history_error(StreamPosition{7, "F"}, kept), ErrorCode::kUnrecoverablePosition);
}

// One history example of docs/PROTOCOL.md and the answer the document gives to it.
struct DocExample {
  size_t line = 0;
  std::string channel;
  std::optional<StreamPosition> since;
  std::optional<uint32_t> limit;
  bool reverse = false;
  // The answer: an error code, or a result.
  std::optional<uint64_t> error;
  uint64_t top = 0;
  std::string epoch;
  std::vector<uint64_t> offsets;
  std::map<uint64_t, std::string> data;  // raw JSON by offset
};

// The request half of an example, from a decoded Command or ApiCommand.
template <typename Cmd>
DocExample example_of(size_t line, const Cmd& c) {
  DocExample ex;
  ex.line = line;
  ex.channel = c.channel;
  ex.since = c.since;
  ex.limit = c.limit;
  ex.reverse = c.reverse;
  return ex;
}

std::vector<std::string> doc_lines() {
  std::ifstream in(HERALD_PROTOCOL_DOC);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// Reads the answer (`{"id":..,"result":..}`, `{"result":..}` or an error) into ex.
void read_answer(simdjson::dom::parser& parser, std::string_view json, DocExample& ex) {
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(simdjson::padded_string(json)).get(root), simdjson::SUCCESS) << json;
  uint64_t code = 0;
  if (root["error"]["code"].get(code) == simdjson::SUCCESS) {
    ex.error = code;
    return;
  }
  simdjson::dom::element r = root["result"].value_unsafe();
  ASSERT_EQ(r["offset"].get(ex.top), simdjson::SUCCESS);
  std::string_view epoch;
  ASSERT_EQ(r["epoch"].get(epoch), simdjson::SUCCESS);
  ex.epoch = epoch;
  simdjson::dom::array pubs;
  ASSERT_EQ(r["publications"].get(pubs), simdjson::SUCCESS);
  for (simdjson::dom::element p : pubs) {
    uint64_t offset = 0;
    ASSERT_EQ(p["offset"].get(offset), simdjson::SUCCESS);
    ex.offsets.push_back(offset);
    ex.data[offset] = simdjson::minify(p["data"]);
  }
}

// Every history example: WebSocket commands ("→" then the "←" with its id) and server API
// requests ("POST /api/history" then "← STATUS BODY").
std::vector<DocExample> history_examples() {
  std::vector<std::string> lines = doc_lines();
  EXPECT_GT(lines.size(), 100u) << "cannot read " << HERALD_PROTOCOL_DOC;
  constexpr std::string_view kClient = "\xE2\x86\x92 ";  // "→ "
  constexpr std::string_view kServer = "\xE2\x86\x90 ";  // "← "
  constexpr std::string_view kApi = "POST /api/history ";
  protocol::CommandDecoder decoder;
  protocol::ApiDecoder api;
  simdjson::dom::parser parser;
  std::vector<DocExample> out;
  std::map<uint32_t, DocExample> pending;  // by command id
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view text(lines[n]);
    if (text.starts_with(kClient)) {
      std::vector<protocol::DecodedCommand> cmds;
      decoder.decode(text.substr(kClient.size()), cmds);
      const auto* c = cmds.size() == 1 ? std::get_if<protocol::Command>(&cmds[0]) : nullptr;
      if (c != nullptr && c->method == protocol::Method::kHistory) {
        pending[c->id] = example_of(n + 1, *c);
      }
    } else if (text.starts_with(kServer) && !pending.empty()) {
      std::string_view json = text.substr(kServer.size());
      simdjson::dom::element root;
      uint64_t id = 0;
      if (parser.parse(simdjson::padded_string(json)).get(root) == simdjson::SUCCESS &&
          root["id"].get(id) == simdjson::SUCCESS && pending.count(static_cast<uint32_t>(id))) {
        DocExample ex = std::move(pending[static_cast<uint32_t>(id)]);
        pending.erase(static_cast<uint32_t>(id));
        read_answer(parser, json, ex);
        out.push_back(std::move(ex));
      }
    } else if (text.starts_with(kApi) && n + 1 < lines.size()) {
      protocol::ApiDecoded d = api.decode("history", text.substr(kApi.size()));
      const auto* c = std::get_if<protocol::ApiCommand>(&d);
      std::string_view answer(lines[n + 1]);
      if (c == nullptr || !answer.starts_with(kServer)) {
        ADD_FAILURE() << "PROTOCOL.md line " << n + 1 << ": not a history request and answer";
        continue;
      }
      DocExample ex = example_of(n + 1, *c);
      answer.remove_prefix(kServer.size());
      read_answer(parser, answer.substr(answer.find(' ') + 1), ex);  // after "STATUS "
      out.push_back(std::move(ex));
    }
  }
  EXPECT_TRUE(pending.empty()) << "a history example without its answer";
  return out;
}

// The examples' meaning, not only their encoding (doc_examples_test checks that): each runs on
// a broker whose channel holds as many publications as the example's answer says (its top
// offset), through history_query() and history_error() as the server runs it. An example with
// a limit must show a channel holding more than the limit, so it shows which end is read.
TEST(HistoryQuery, DocExamplesHoldAgainstABroker) {
  std::vector<DocExample> examples = history_examples();
  ASSERT_GE(examples.size(), 4u);
  broker::testing::LoopThreads loops(1);
  ASSERT_TRUE(loops.ok());
  broker::MemoryBroker broker(loops.pointers());
  loops.start();
  size_t reverse_limited = 0;
  for (const DocExample& ex : examples) {
    SCOPED_TRACE("PROTOCOL.md line " + std::to_string(ex.line));
    // A channel of its own per example; an error example gets some history to be refused from.
    std::string channel = std::to_string(ex.line) + "/" + ex.channel;
    uint64_t published = ex.error ? 8 : ex.top;
    std::string epoch;
    for (uint64_t off = 1; off <= published; ++off) {
      auto it = ex.data.find(off);
      std::promise<Result<broker::PublishResult>> p;
      loops.on_loop(0, [&] {
        broker.publish(0, channel,
                       broker::PublishRequest{it == ex.data.end() ? "null" : it->second, {}, ""},
                       [&](Result<broker::PublishResult> r) { p.set_value(std::move(r)); });
      });
      Result<broker::PublishResult> r = p.get_future().get();
      ASSERT_TRUE(r.ok());
      epoch = r->top.epoch;
    }
    if (ex.limit && *ex.limit > 0 && !ex.error) {
      EXPECT_GT(ex.top, *ex.limit) << "the channel must hold more than the limit";
      reverse_limited += ex.reverse ? 1 : 0;
    }
    // The document's epoch of the channel stands for the broker's (random) one.
    std::optional<StreamPosition> since = ex.since;
    if (since && !ex.error && since->epoch == ex.epoch) {
      since->epoch = epoch;
    }
    std::promise<Result<broker::HistoryResult>> p;
    loops.on_loop(0, [&] {
      broker.read_history(0, channel, history_query(since, ex.limit, ex.reverse),
                          [&](Result<broker::HistoryResult> r) { p.set_value(std::move(r)); });
    });
    Result<broker::HistoryResult> r = p.get_future().get();
    std::optional<ErrorCode> err = history_error(since, r);
    if (ex.error) {
      ASSERT_TRUE(err.has_value());
      EXPECT_EQ(protocol::code_value(*err), *ex.error);
      continue;
    }
    ASSERT_FALSE(err.has_value()) << protocol::code_value(*err);
    EXPECT_EQ(r->top.offset, ex.top);
    std::vector<uint64_t> offsets;
    for (const broker::PublicationRecord& pub : r->publications) {
      offsets.push_back(pub.offset);
      if (auto want = ex.data.find(pub.offset); want != ex.data.end()) {
        EXPECT_EQ(pub.data, want->second);
      }
    }
    EXPECT_EQ(offsets, ex.offsets);
  }
  EXPECT_GE(reverse_limited, 2u) << "a reverse example with a limit, WebSocket and server API";
  loops.stop();
}

}  // namespace
}  // namespace herald::server
