#include "protocol/command_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "protocol/command_encoder.h"
#include "protocol/messages.h"
#include "test_util.h"

namespace herald::protocol {
namespace {

using testing::is_valid_json;

std::vector<DecodedCommand> decode(std::string_view frame, const Limits& limits = {}) {
  CommandDecoder d(limits);
  std::vector<DecodedCommand> out;
  d.decode(frame, out);
  return out;
}

Command decode_ok(std::string_view line) {
  auto out = decode(line);
  EXPECT_EQ(out.size(), 1u) << line;
  if (out.size() != 1 || !std::holds_alternative<Command>(out[0])) {
    if (out.size() == 1) {
      ADD_FAILURE() << line << " -> " << std::get<DecodeError>(out[0]).message;
    }
    return {};
  }
  return std::get<Command>(out[0]);
}

DecodeError decode_err(std::string_view line, const Limits& limits = {}) {
  auto out = decode(line, limits);
  EXPECT_EQ(out.size(), 1u) << line;
  if (out.size() != 1 || !std::holds_alternative<DecodeError>(out[0])) {
    ADD_FAILURE() << line << " decoded";
    return {};
  }
  return std::get<DecodeError>(out[0]);
}

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string publish_with_data(std::string_view data) {
  return std::string(R"({"id":1,"method":"publish","params":{"channel":"c","data":)") +
         std::string(data) + "}}";
}

struct ErrorCase {
  std::string line;
  uint32_t id;
  ErrorCode code;
};

// Every way a line can fail in the decoder; ids show which errors can still name the command.
std::vector<ErrorCase> error_cases() {
  return {
      // Not JSON.
      {"{", 0, ErrorCode::kBadRequest},
      {"nope", 0, ErrorCode::kBadRequest},
      {R"({"id":5,"method":"ping"} trailing)", 5, ErrorCode::kBadRequest},
      {R"({"id":5,"method":"ping"}{})", 5, ErrorCode::kBadRequest},
      {R"({"id":6,"method":"ping",})", 6, ErrorCode::kBadRequest},
      {R"({"id":7,"method":"ping)", 7, ErrorCode::kBadRequest},
      {R"({"id":8,"method":tru})", 8, ErrorCode::kBadRequest},
      {R"({"id":9,"method":"p\xing"})", 9, ErrorCode::kBadRequest},
      {R"({"id":10,"method":"\ud800"})", 10, ErrorCode::kBadRequest},
      {"{\"id\":11,\"method\":\"a\x01\"}", 11, ErrorCode::kBadRequest},
      {"{\"id\":12,\"method\":\"\xFF\"}", 12, ErrorCode::kInvalidUtf8},
      {"{\"id\":13,\"method\":\"\xC0\xAF\"}", 13, ErrorCode::kInvalidUtf8},
      {"{\"id\":14,\"x\":\"\xED\xA0\x80\"}", 14, ErrorCode::kInvalidUtf8},
      {R"({"id":15,"method":"ping","params":{"x":1e400}})", 15, ErrorCode::kInvalidNumber},
      {R"({"id":16,"method":"ping","params":{"x":123456789012345678901234}})", 16,
       ErrorCode::kInvalidNumber},
      {R"({"id":17,"method":"ping","params":{"x":01}})", 17, ErrorCode::kInvalidNumber},
      {R"({"id":18,"method":"ping","params":{"x":-}})", 18, ErrorCode::kInvalidNumber},
      {publish_with_data(nested_arrays(31)), 1, ErrorCode::kTooDeep},
      {"[]", 0, ErrorCode::kBadRequest},
      {"\"str\"", 0, ErrorCode::kBadRequest},
      {"42", 0, ErrorCode::kBadRequest},
      {"null", 0, ErrorCode::kBadRequest},
      // Id.
      {R"({"method":"ping"})", 0, ErrorCode::kMissingField},
      {R"({"id":null,"method":"ping"})", 0, ErrorCode::kMissingField},
      {R"({"id":"1","method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":0,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":-1,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":1.0,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":1e2,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":4294967296,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":true,"method":"ping"})", 0, ErrorCode::kWrongType},
      {R"({"id":1,"id":2,"method":"ping"})", 0, ErrorCode::kDuplicateField},
      // Method.
      {R"({"id":20})", 20, ErrorCode::kMissingField},
      {R"({"id":21,"method":5})", 21, ErrorCode::kWrongType},
      {R"({"id":22,"method":"PING"})", 22, ErrorCode::kUnknownMethod},
      {R"({"id":23,"method":""})", 23, ErrorCode::kUnknownMethod},
      {std::string(R"({"id":24,"method":")") + std::string(300, 'x') + "\"}", 24,
       ErrorCode::kUnknownMethod},
      {R"({"id":25,"method":"ping","method":"ping"})", 25, ErrorCode::kDuplicateField},
      // Params.
      {R"({"id":30,"method":"ping","params":[]})", 30, ErrorCode::kWrongType},
      {R"({"id":31,"method":"ping","params":"x"})", 31, ErrorCode::kWrongType},
      {R"({"id":32,"method":"subscribe"})", 32, ErrorCode::kMissingField},
      {R"({"id":33,"method":"subscribe","params":{}})", 33, ErrorCode::kMissingField},
      {R"({"id":34,"method":"subscribe","params":{"channel":null}})", 34, ErrorCode::kMissingField},
      {R"({"id":35,"method":"subscribe","params":{"channel":5}})", 35, ErrorCode::kWrongType},
      {R"({"id":36,"method":"subscribe","params":{"channel":""}})", 36, ErrorCode::kInvalidChannel},
      {R"({"id":37,"method":"subscribe","params":{"channel":"a b"}})", 37,
       ErrorCode::kInvalidChannel},
      {R"({"id":38,"method":"subscribe","params":{"channel":":x"}})", 38,
       ErrorCode::kInvalidChannel},
      {std::string(R"({"id":39,"method":"unsubscribe","params":{"channel":")") +
           std::string(256, 'a') + "\"}}",
       39, ErrorCode::kInvalidChannel},
      {R"({"id":40,"method":"presence","params":{"channel":"caf\u00e9"}})", 40,
       ErrorCode::kInvalidChannel},
      {R"({"id":41,"method":"presence_stats","params":{"channel":["a"]}})", 41,
       ErrorCode::kWrongType},
      {R"({"id":42,"method":"subscribe","params":{"channel":"a","channel":"a"}})", 42,
       ErrorCode::kDuplicateField},
      // Subscribe: since and recover.
      {R"({"id":50,"method":"subscribe","params":{"channel":"a","since":5}})", 50,
       ErrorCode::kWrongType},
      {R"({"id":51,"method":"subscribe","params":{"channel":"a","since":{}}})", 51,
       ErrorCode::kMissingField},
      {R"({"id":52,"method":"subscribe","params":{"channel":"a","since":{"offset":1}}})", 52,
       ErrorCode::kMissingField},
      {R"({"id":53,"method":"subscribe","params":{"channel":"a",)"
       R"("since":{"offset":-1,"epoch":"e"}}})",
       53, ErrorCode::kWrongType},
      {R"({"id":54,"method":"subscribe","params":{"channel":"a","since":{"offset":1,"epoch":1}}})",
       54, ErrorCode::kWrongType},
      {R"({"id":55,"method":"subscribe","params":{"channel":"a",)"
       R"("since":{"offset":1,"offset":2,"epoch":"e"}}})",
       55, ErrorCode::kDuplicateField},
      {std::string(R"({"id":56,"method":"subscribe","params":{"channel":"a",)"
                   R"("since":{"offset":1,"epoch":")") +
           std::string(256, 'e') + "\"}}}",
       56, ErrorCode::kTooLarge},
      {R"({"id":57,"method":"subscribe","params":{"channel":"a","recover":true}})", 57,
       ErrorCode::kMissingField},
      {R"({"id":58,"method":"subscribe","params":{"channel":"a","recover":1}})", 58,
       ErrorCode::kWrongType},
      // Publish.
      {R"({"id":60,"method":"publish","params":{"channel":"a"}})", 60, ErrorCode::kMissingField},
      {R"({"id":61,"method":"publish","params":{"data":1}})", 61, ErrorCode::kMissingField},
      {R"({"id":62,"method":"publish","params":{"channel":"a","data":1,"data":2}})", 62,
       ErrorCode::kDuplicateField},
      {R"({"id":63,"method":"publish","params":{"channel":"a","data":1,"idempotency_key":7}})", 63,
       ErrorCode::kWrongType},
      {std::string(
           R"({"id":64,"method":"publish","params":{"channel":"a","data":1,"idempotency_key":")") +
           std::string(256, 'k') + "\"}}",
       64, ErrorCode::kTooLarge},
      {std::string(R"({"id":65,"method":"publish","params":{"channel":"a","data":")") +
           std::string(64 << 10, 'd') + "\"}}",
       65, ErrorCode::kTooLarge},
      // History.
      {R"({"id":70,"method":"history","params":{"channel":"a","limit":-1}})", 70,
       ErrorCode::kWrongType},
      {R"({"id":71,"method":"history","params":{"channel":"a","limit":2.0}})", 71,
       ErrorCode::kWrongType},
      {R"({"id":72,"method":"history","params":{"channel":"a","limit":4294967296}})", 72,
       ErrorCode::kWrongType},
      {R"({"id":73,"method":"history","params":{"channel":"a","reverse":"yes"}})", 73,
       ErrorCode::kWrongType},
      {R"({"id":74,"method":"history","params":{"channel":"a","since":[]}})", 74,
       ErrorCode::kWrongType},
      // Connect.
      {R"({"id":80,"method":"connect","params":{"token":5}})", 80, ErrorCode::kWrongType},
      {std::string(R"({"id":81,"method":"connect","params":{"token":")") +
           std::string((8 << 10) + 1, 't') + "\"}}",
       81, ErrorCode::kTooLarge},
      {std::string(R"({"id":82,"method":"connect","params":{"name":")") + std::string(256, 'n') +
           "\"}}",
       82, ErrorCode::kTooLarge},
      {R"({"id":83,"method":"connect","params":{"version":[]}})", 83, ErrorCode::kWrongType},
      {R"({"id":84,"method":"connect","params":{"protocol":2}})", 84,
       ErrorCode::kUnsupportedProtocol},
      {R"({"id":85,"method":"connect","params":{"protocol":"1"}})", 85, ErrorCode::kWrongType},
      {std::string(R"({"id":86,"method":"connect","params":{"data":")") +
           std::string(64 << 10, 'd') + "\"}}",
       86, ErrorCode::kTooLarge},
      // Refresh and channel tokens.
      {R"({"id":87,"method":"refresh"})", 87, ErrorCode::kMissingField},
      {R"({"id":88,"method":"refresh","params":{"token":null}})", 88, ErrorCode::kMissingField},
      {R"({"id":89,"method":"refresh","params":{"token":1}})", 89, ErrorCode::kWrongType},
      {std::string(R"({"id":91,"method":"refresh","params":{"token":")") +
           std::string((8 << 10) + 1, 't') + "\"}}",
       91, ErrorCode::kTooLarge},
      {R"({"id":92,"method":"refresh","params":{"token":"a","token":"b"}})", 92,
       ErrorCode::kDuplicateField},
      {R"({"id":93,"method":"subscribe","params":{"channel":"a","token":[]}})", 93,
       ErrorCode::kWrongType},
      {std::string(R"({"id":94,"method":"subscribe","params":{"channel":"a","token":")") +
           std::string((8 << 10) + 1, 't') + "\"}}",
       94, ErrorCode::kTooLarge},
      // A whole line over max_command (the id is sniffed from its start).
      {std::string(R"({"id":90,"method":"publish","params":{"channel":"a","data":")") +
           std::string(80 << 10, 'd') + "\"}}",
       90, ErrorCode::kTooLarge},
  };
}

TEST(CommandDecoder, ErrorTable) {
  std::set<ErrorCode> reached;
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.line.substr(0, 120));
    DecodeError e = decode_err(c.line);
    EXPECT_EQ(e.id, c.id);
    EXPECT_EQ(e.code, c.code) << e.message;
    EXPECT_FALSE(e.message.empty());
    // The message starts with the code's default message, so logs read the same everywhere.
    EXPECT_TRUE(e.message.starts_with(error_message(e.code))) << e.message;
    std::string reply;
    append_error(reply, e.id, e.code, e.message);
    EXPECT_TRUE(is_valid_json(reply)) << reply;
    reached.insert(e.code);
  }
  // Commands per frame (110) are covered below; every other decoder-level code is in the table.
  for (ErrorCode c : {ErrorCode::kBadRequest, ErrorCode::kUnknownMethod, ErrorCode::kMissingField,
                      ErrorCode::kWrongType, ErrorCode::kInvalidChannel, ErrorCode::kTooLarge,
                      ErrorCode::kDuplicateField, ErrorCode::kTooDeep, ErrorCode::kInvalidUtf8,
                      ErrorCode::kInvalidNumber, ErrorCode::kUnsupportedProtocol}) {
    EXPECT_TRUE(reached.count(c)) << code_value(c);
  }
}

TEST(CommandDecoder, EveryErrorCaseIsIndependentOfItsNeighbours) {
  // One frame with all the bad lines interleaved with good ones decodes to exactly what each
  // line gives alone: a bad line never disturbs the next.
  auto cases = error_cases();
  Limits limits;
  limits.max_frame = 16 << 20;
  limits.max_commands_per_frame = 1000;
  std::string frame;
  for (const ErrorCase& c : cases) {
    frame += c.line + "\n" + R"({"id":999,"method":"ping"})" + "\n";
  }
  auto out = decode(frame, limits);
  ASSERT_EQ(out.size(), cases.size() * 2);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].line.substr(0, 120));
    ASSERT_TRUE(std::holds_alternative<DecodeError>(out[2 * i]));
    EXPECT_EQ(std::get<DecodeError>(out[2 * i]).code, cases[i].code);
    EXPECT_EQ(std::get<DecodeError>(out[2 * i]).id, cases[i].id);
    ASSERT_TRUE(std::holds_alternative<Command>(out[2 * i + 1]));
    EXPECT_EQ(std::get<Command>(out[2 * i + 1]).id, 999u);
  }
}

TEST(CommandDecoder, Connect) {
  Command c =
      decode_ok(R"({"id":1,"method":"connect","params":{"token":"t.k.n","data":{ "name" : "Ann" },)"
                R"("name":"herald-js","version":"1.0.0","protocol":1}})");
  EXPECT_EQ(c.id, 1u);
  EXPECT_EQ(c.method, Method::kConnect);
  EXPECT_EQ(c.token, "t.k.n");
  EXPECT_EQ(c.data, R"({"name":"Ann"})");
  EXPECT_EQ(c.name, "herald-js");
  EXPECT_EQ(c.version, "1.0.0");
  Command bare = decode_ok(R"({"id":2,"method":"connect"})");
  EXPECT_TRUE(bare.token.empty());
  EXPECT_TRUE(bare.data.empty());
}

TEST(CommandDecoder, SubscribeAndRecovery) {
  Command c = decode_ok(R"({"id":3,"method":"subscribe","params":{"channel":"chat:room1"}})");
  EXPECT_EQ(c.method, Method::kSubscribe);
  EXPECT_EQ(c.channel, "chat:room1");
  EXPECT_FALSE(c.since);
  EXPECT_FALSE(c.recover);

  c = decode_ok(R"({"id":4,"method":"subscribe","params":{"channel":"a",)"
                R"("since":{"offset":18446744073709551615,"epoch":"x7Fq"}}})");
  ASSERT_TRUE(c.since);
  EXPECT_EQ(c.since->offset, UINT64_MAX);
  EXPECT_EQ(c.since->epoch, "x7Fq");
  EXPECT_TRUE(c.recover);

  c = decode_ok(R"({"id":5,"method":"subscribe","params":{"channel":"a","recover":true,)"
                R"("since":{"epoch":"e","offset":0,"extra":1}}})");
  ASSERT_TRUE(c.since);
  EXPECT_EQ(c.since->offset, 0u);
  EXPECT_TRUE(c.recover);

  c = decode_ok(R"({"id":6,"method":"subscribe","params":{"channel":"a","recover":false,)"
                R"("since":{"offset":3,"epoch":"e"}}})");
  EXPECT_FALSE(c.since);
  EXPECT_FALSE(c.recover);

  c = decode_ok(
      R"({"id":7,"method":"subscribe","params":{"channel":"a","since":null,"recover":null}})");
  EXPECT_FALSE(c.since);
  EXPECT_FALSE(c.recover);
}

TEST(CommandDecoder, ChannelMethods) {
  struct Case {
    const char* line;
    Method method;
  };
  const Case cases[] = {
      {R"({"id":1,"method":"unsubscribe","params":{"channel":"a:b"}})", Method::kUnsubscribe},
      {R"({"id":1,"method":"presence","params":{"channel":"a:b"}})", Method::kPresence},
      {R"({"id":1,"method":"presence_stats","params":{"channel":"a:b"}})", Method::kPresenceStats},
  };
  for (const Case& c : cases) {
    Command cmd = decode_ok(c.line);
    EXPECT_EQ(cmd.method, c.method);
    EXPECT_EQ(cmd.channel, "a:b");
  }
  Command ping = decode_ok(R"({"id":4294967295,"method":"ping","params":null})");
  EXPECT_EQ(ping.id, 4294967295u);
  EXPECT_EQ(ping.method, Method::kPing);
  EXPECT_EQ(decode_ok(R"({"id":1,"method":"ping","params":{}})").method, Method::kPing);
}

TEST(CommandDecoder, PublishKeepsDataVerbatimApartFromWhitespace) {
  struct Case {
    std::string data;
    std::string kept;
  };
  const Case cases[] = {
      {"null", "null"},
      {"true", "true"},
      {"0", "0"},
      {"-0", "-0"},
      {"1.50", "1.50"},
      {"1E+2", "1E+2"},
      {"18446744073709551615", "18446744073709551615"},
      {"-9223372036854775808", "-9223372036854775808"},
      {R"("")", R"("")"},
      {R"(" spaced  text ")", R"(" spaced  text ")"},
      {R"("\u00e9\n\"\\\/")", R"("\u00e9\n\"\\\/")"},
      {"\"caf\xC3\xA9\"", "\"caf\xC3\xA9\""},
      {"[ 1 ,\t2 , [ ] ]", "[1,2,[]]"},
      {"{ \"b\" : 1 , \"a\" : { } }", R"({"b":1,"a":{}})"},
      {R"({"k":"}\"{[","k":2})", R"({"k":"}\"{[","k":2})"},  // duplicates in data are kept
  };
  for (const Case& c : cases) {
    Command cmd = decode_ok(publish_with_data(c.data));
    EXPECT_EQ(cmd.method, Method::kPublish);
    EXPECT_EQ(cmd.data, c.kept) << c.data;
  }
  // Data after other fields holding tricky strings, and keys written with escapes.
  Command cmd = decode_ok(
      R"({"params":{"x":"}\"{[\\","y":[{"z":"]"}],"c\u0068annel":"c","d\u0061ta":{"v":"\\"}},)"
      R"("method":"publish","id":9})");
  EXPECT_EQ(cmd.id, 9u);
  EXPECT_EQ(cmd.channel, "c");
  EXPECT_EQ(cmd.data, R"({"v":"\\"})");
  cmd = decode_ok(
      R"({"id":1,"method":"publish","params":{"channel":"c","data":1,"idempotency_key":"k1"}})");
  EXPECT_EQ(cmd.idempotency_key, "k1");
}

TEST(CommandDecoder, DataLimitCountsMinifiedBytes) {
  std::string exact = std::string("\"") + std::string((64 << 10) - 2, 'd') + "\"";
  EXPECT_EQ(decode_ok(publish_with_data(exact)).data.size(), size_t{64} << 10);
  // Whitespace outside strings does not count.
  std::string padded = "  " + exact + "  ";
  EXPECT_EQ(decode_ok(publish_with_data(padded)).data, exact);
  std::string over = std::string("\"") + std::string((64 << 10) - 1, 'd') + "\"";
  EXPECT_EQ(decode_err(publish_with_data(over)).code, ErrorCode::kTooLarge);
}

TEST(CommandDecoder, DepthLimitIsExact) {
  // The command is level 1, params level 2, so data may open 30 more.
  EXPECT_EQ(decode_ok(publish_with_data(nested_arrays(30))).data, nested_arrays(30));
  EXPECT_EQ(decode_err(publish_with_data(nested_arrays(31))).code, ErrorCode::kTooDeep);
  // A value's level: the command 1, params 2, data 3, an element of data 4.
  Limits shallow;
  shallow.max_depth = 4;
  auto out = decode(publish_with_data("[1]"), shallow);
  ASSERT_TRUE(std::holds_alternative<Command>(out.at(0)));
  out = decode(publish_with_data("[[]]"), shallow);
  ASSERT_TRUE(std::holds_alternative<Command>(out.at(0)));
  EXPECT_EQ(decode_err(publish_with_data("[[1]]"), shallow).code, ErrorCode::kTooDeep);
  EXPECT_EQ(decode_err(publish_with_data(R"([{"a":1}])"), shallow).code, ErrorCode::kTooDeep);
}

TEST(CommandDecoder, History) {
  Command c = decode_ok(R"({"id":1,"method":"history","params":{"channel":"a","limit":0}})");
  ASSERT_TRUE(c.limit);
  EXPECT_EQ(*c.limit, 0u);
  EXPECT_FALSE(c.reverse);
  c = decode_ok(R"({"id":1,"method":"history","params":{"channel":"a","limit":4294967295,)"
                R"("reverse":true,"since":{"offset":2,"epoch":"e"}}})");
  EXPECT_EQ(*c.limit, 4294967295u);
  EXPECT_TRUE(c.reverse);
  ASSERT_TRUE(c.since);
  EXPECT_EQ(c.since->offset, 2u);
  c = decode_ok(R"({"id":1,"method":"history","params":{"channel":"a"}})");
  EXPECT_FALSE(c.limit);
  EXPECT_FALSE(c.since);
}

TEST(CommandDecoder, UnknownFieldsAreIgnoredEverywhere) {
  Command c = decode_ok(
      R"({"id":1,"future":{"deep":[1,{"x":null}]},"method":"subscribe","params":{"channel":"a",)"
      R"("data":"not for subscribe","idempotency_key":5,"more":[],"more":{}}})");
  EXPECT_EQ(c.method, Method::kSubscribe);
  EXPECT_TRUE(c.data.empty());
  EXPECT_TRUE(c.idempotency_key.empty());
}

TEST(CommandDecoder, SniffsTheIdOfBrokenLinesOnlyWhenItComesFirst) {
  struct Case {
    const char* line;
    uint32_t id;
  };
  const Case cases[] = {
      {R"({"id":5,"method":)", 5},
      {" { \"id\" : 7 , broken", 7},
      {R"({"id":8})", 8},  // (valid: missing method)
      {R"({"id":07,"x":)", 0},
      {R"({"id":0,"x":)", 0},
      {R"({"id":4294967296,"x":)", 0},
      {R"({"id":12345678901,"x":)", 0},
      {R"({"id":5.5,"x":)", 0},
      {R"({"id":"5","x":)", 0},
      {R"({"method":"ping","id":5,)", 0},
      {R"({"id":5)", 0},
      {R"({"id":)", 0},
      {R"({"i)", 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(decode_err(c.line).id, c.id) << c.line;
  }
}

TEST(CommandDecoder, FramesWithSeveralLines) {
  auto out = decode(
      "\r\n{\"id\":1,\"method\":\"ping\"}\r\n\n   \n\t{\"id\":2,\"method\":\"ping\"}\n"
      "{\"id\":3,\"method\":\"fly\"}\n{\"id\":4,\"method\":\"ping\"}");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(std::get<Command>(out[0]).id, 1u);
  EXPECT_EQ(std::get<Command>(out[1]).id, 2u);
  EXPECT_EQ(std::get<DecodeError>(out[2]).code, ErrorCode::kUnknownMethod);
  EXPECT_EQ(std::get<Command>(out[3]).id, 4u);
  EXPECT_TRUE(decode("").empty());
  EXPECT_TRUE(decode("\n\n \r\n\t").empty());
}

TEST(CommandDecoder, TooManyCommandsInOneFrame) {
  Limits limits;
  limits.max_commands_per_frame = 3;
  std::string frame;
  for (int i = 1; i <= 5; ++i) {
    frame += std::string(R"({"id":)") + std::to_string(i) + R"(,"method":"ping"})" + "\n\n";
  }
  auto out = decode(frame, limits);
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(std::get<Command>(out[i]).id, static_cast<uint32_t>(i + 1));
  }
  EXPECT_EQ(std::get<DecodeError>(out[3]).id, 0u);
  EXPECT_EQ(std::get<DecodeError>(out[3]).code, ErrorCode::kLimitExceeded);
}

TEST(CommandDecoder, FrameOverTheLimitIsOneError) {
  Limits limits;
  limits.max_frame = 64;
  std::string frame = R"({"id":1,"method":"ping"})"
                      "\n"
                      R"({"id":2,"method":"ping"})"
                      "\n"
                      R"({"id":3,"method":"ping"})";
  ASSERT_GT(frame.size(), 64u);
  auto out = decode(frame, limits);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<DecodeError>(out[0]).id, 0u);
  EXPECT_EQ(std::get<DecodeError>(out[0]).code, ErrorCode::kTooLarge);
  frame.resize(64);
  EXPECT_EQ(decode(frame, limits).size(), 3u);  // at the limit: decoded (the last line is cut)
}

TEST(CommandDecoder, AppendsToOutAndReusesItsBuffers) {
  CommandDecoder d;
  std::vector<DecodedCommand> out;
  std::string big = publish_with_data(std::string("\"") + std::string(60000, 'z') + "\"");
  d.decode(big, out);
  d.decode(R"({"id":2,"method":"publish","params":{"channel":"c","data":"small"}})", out);
  d.decode(big, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::get<Command>(out[0]).data.size(), 60002u);
  EXPECT_EQ(std::get<Command>(out[1]).data, "\"small\"");
  EXPECT_EQ(std::get<Command>(out[2]).data, std::get<Command>(out[0]).data);
}

TEST(CommandDecoder, SplittingAFrameIntoLinesChangesNothing) {
  // The transport may deliver a batch whole or one command per frame: same commands.
  std::mt19937 rng(3);
  std::vector<std::string> lines;
  for (const ErrorCase& c : error_cases()) {
    lines.push_back(c.line);
  }
  lines.push_back(R"({"id":1,"method":"connect","params":{"data":{"a":[1,2]}}})");
  lines.push_back(
      R"({"id":2,"method":"subscribe","params":{"channel":"x","since":{"offset":1,"epoch":"e"}}})");
  lines.push_back(publish_with_data(R"({"deep":[[["x"]]]})"));
  std::shuffle(lines.begin(), lines.end(), rng);
  Limits limits;
  limits.max_frame = 16 << 20;
  limits.max_commands_per_frame = 10000;
  CommandDecoder d(limits);
  std::vector<DecodedCommand> whole, split;
  std::string frame;
  for (const std::string& l : lines) {
    frame += l + "\n";
    d.decode(l, split);
  }
  d.decode(frame, whole);
  ASSERT_EQ(whole.size(), split.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    ASSERT_EQ(whole[i].index(), split[i].index());
    if (const auto* c = std::get_if<Command>(&whole[i])) {
      const auto& s = std::get<Command>(split[i]);
      EXPECT_EQ(c->id, s.id);
      EXPECT_EQ(c->channel, s.channel);
      EXPECT_EQ(c->data, s.data);
      EXPECT_EQ(c->since, s.since);
    } else {
      EXPECT_EQ(std::get<DecodeError>(whole[i]).code, std::get<DecodeError>(split[i]).code);
      EXPECT_EQ(std::get<DecodeError>(whole[i]).message, std::get<DecodeError>(split[i]).message);
    }
  }
}

TEST(CommandDecoder, RefreshAndChannelTokens) {
  Command r = decode_ok(R"({"id":3,"method":"refresh","params":{"token":"a.b.c","channel":"x"}})");
  EXPECT_EQ(r.method, Method::kRefresh);
  EXPECT_EQ(r.token, "a.b.c");
  EXPECT_TRUE(r.channel.empty()) << "refresh reads only its token";
  Command s = decode_ok(R"({"id":4,"method":"subscribe","params":{"channel":"p:#1,2","token":"t"}})");
  EXPECT_EQ(s.channel, "p:#1,2");
  EXPECT_EQ(s.token, "t");
  EXPECT_TRUE(decode_ok(R"({"id":5,"method":"subscribe","params":{"channel":"a","token":null}})")
                  .token.empty());
  // Both round-trip through the encoder.
  for (const Command& c : {r, s}) {
    std::string line;
    append_command(line, c);
    Command back = decode_ok(line);
    EXPECT_EQ(back.token, c.token) << line;
    EXPECT_EQ(back.method, c.method) << line;
  }
}

TEST(CommandDecoder, MethodNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(Method::kRefresh); ++i) {
    auto m = static_cast<Method>(i);
    EXPECT_EQ(method_from_name(method_name(m)), m);
  }
  EXPECT_FALSE(method_from_name("Connect"));
  EXPECT_FALSE(method_from_name(""));
}

}  // namespace
}  // namespace herald::protocol
