#include "protocol/api_decoder.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "test_util.h"

namespace herald::protocol {
namespace {

ApiCommand api_ok(std::string_view method, std::string_view body) {
  ApiDecoder d;
  ApiDecoded r = d.decode(method, body);
  if (const auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << method << " " << body << " -> " << e->message;
    return {};
  }
  return std::get<ApiCommand>(r);
}

ApiError api_err(std::string_view method, std::string_view body, const Limits& limits = {}) {
  ApiDecoder d(limits);
  ApiDecoded r = d.decode(method, body);
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << method << " " << body << " decoded";
    return {};
  }
  return std::get<ApiError>(r);
}

TEST(ApiDecoder, Methods) {
  ApiCommand c =
      api_ok("publish", R"({"channel":"chat:r","data":{ "a" : 1 },"idempotency_key":"k"})");
  EXPECT_EQ(c.method, ApiMethod::kPublish);
  EXPECT_EQ(c.channel, "chat:r");
  EXPECT_EQ(c.data, R"({"a":1})");
  EXPECT_EQ(c.idempotency_key, "k");

  c = api_ok("broadcast", R"({"channels":["a","b:c"],"data":[1]})");
  EXPECT_EQ(c.method, ApiMethod::kBroadcast);
  EXPECT_EQ(c.channels, (std::vector<std::string>{"a", "b:c"}));
  EXPECT_EQ(c.data, "[1]");

  EXPECT_EQ(api_ok("presence", R"({"channel":"x"})").method, ApiMethod::kPresence);
  EXPECT_EQ(api_ok("presence_stats", R"({"channel":"x"})").method, ApiMethod::kPresenceStats);

  c = api_ok("history",
             R"({"channel":"x","since":{"offset":4,"epoch":"e"},"limit":10,"reverse":true})");
  EXPECT_EQ(c.method, ApiMethod::kHistory);
  ASSERT_TRUE(c.since);
  EXPECT_EQ(c.since->offset, 4u);
  EXPECT_EQ(*c.limit, 10u);
  EXPECT_TRUE(c.reverse);

  c = api_ok("channels", R"({"pattern":"chat:*"})");
  EXPECT_EQ(c.method, ApiMethod::kChannels);
  EXPECT_EQ(c.pattern, "chat:*");
  EXPECT_EQ(api_ok("channels", "").pattern, "");

  c = api_ok("disconnect", R"({"user":"42"})");
  EXPECT_EQ(c.method, ApiMethod::kDisconnect);
  EXPECT_EQ(c.user, "42");

  EXPECT_EQ(api_ok("info", "").method, ApiMethod::kInfo);
  EXPECT_EQ(api_ok("info", " \r\n").method, ApiMethod::kInfo);
  EXPECT_EQ(api_ok("info", "{}").method, ApiMethod::kInfo);
  EXPECT_EQ(api_ok("info", R"({"unknown":[1]})").method, ApiMethod::kInfo);
}

TEST(ApiDecoder, PrettyPrintedDataTravelsOnOneLine) {
  ApiCommand c = api_ok("publish",
                        "{\n  \"channel\": \"c\",\n  \"data\": {\n    \"text\": \"a b\\n\",\n"
                        "    \"list\": [ 1,\n 2 ]\n  }\n}\n");
  EXPECT_EQ(c.data, R"({"text":"a b\n","list":[1,2]})");
  EXPECT_EQ(c.data.find('\n'), std::string::npos);
}

TEST(ApiDecoder, Errors) {
  struct Case {
    std::string method;
    std::string body;
    ErrorCode code;
    int status;
  };
  const std::vector<Case> cases = {
      {"fly", "{}", ErrorCode::kUnknownMethod, 404},
      {"batch", "{}", ErrorCode::kUnknownMethod, 404},
      {"Publish", "{}", ErrorCode::kUnknownMethod, 404},
      {"publish", "", ErrorCode::kMissingField, 400},
      {"publish", "{", ErrorCode::kBadRequest, 400},
      {"publish", "[]", ErrorCode::kBadRequest, 400},
      {"publish", R"({"channel":"c"})", ErrorCode::kMissingField, 400},
      {"publish", R"({"channel":"c c","data":1})", ErrorCode::kInvalidChannel, 400},
      {"publish", R"({"channel":1,"data":1})", ErrorCode::kWrongType, 400},
      {"publish", R"({"channel":"c","channel":"c","data":1})", ErrorCode::kDuplicateField, 400},
      {"publish", R"({"channel":"c","data":1e999})", ErrorCode::kInvalidNumber, 400},
      {"publish", "{\"channel\":\"c\",\"data\":\"\xFF\"}", ErrorCode::kInvalidUtf8, 400},
      {"publish",
       std::string(R"({"channel":"c","data":)") + std::string(40, '[') + std::string(40, ']') + "}",
       ErrorCode::kTooDeep, 400},
      {"publish", std::string(R"({"channel":"c","data":")") + std::string(64 << 10, 'x') + "\"}",
       ErrorCode::kTooLarge, 413},
      {"broadcast", R"({"data":1})", ErrorCode::kMissingField, 400},
      {"broadcast", R"({"channels":[],"data":1})", ErrorCode::kMissingField, 400},
      {"broadcast", R"({"channels":"a","data":1})", ErrorCode::kWrongType, 400},
      {"broadcast", R"({"channels":["a",1],"data":1})", ErrorCode::kWrongType, 400},
      {"broadcast", R"({"channels":["a","b b"],"data":1})", ErrorCode::kInvalidChannel, 400},
      {"broadcast", R"({"channels":["a"]})", ErrorCode::kMissingField, 400},
      {"history", R"({"channel":"x","limit":"5"})", ErrorCode::kWrongType, 400},
      {"history", R"({"channel":"x","since":{"offset":1}})", ErrorCode::kMissingField, 400},
      {"channels", R"({"pattern":5})", ErrorCode::kWrongType, 400},
      {"disconnect", "{}", ErrorCode::kMissingField, 400},
      {"disconnect", R"({"user":""})", ErrorCode::kWrongType, 400},
      {"disconnect", std::string(R"({"user":)") + std::string("\"") + std::string(256, 'u') + "\"}",
       ErrorCode::kTooLarge, 413},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.body.substr(0, 100));
    ApiError e = api_err(c.method, c.body);
    EXPECT_EQ(e.code, c.code) << e.message;
    EXPECT_EQ(http_status(e.code), c.status);
    EXPECT_TRUE(e.message.starts_with(error_message(e.code))) << e.message;
    std::string body;
    append_api_error(body, e.code, e.message);
    EXPECT_TRUE(testing::is_valid_json(body));
  }
}

TEST(ApiDecoder, Limits) {
  Limits limits;
  limits.max_api_body = 100;
  limits.max_broadcast_channels = 2;
  EXPECT_EQ(api_err("info", std::string(101, ' '), limits).code, ErrorCode::kTooLarge);
  EXPECT_EQ(api_err("broadcast", R"({"channels":["a","b","c"],"data":1})", limits).code,
            ErrorCode::kLimitExceeded);
  ApiDecoder d(limits);
  std::vector<ApiDecoded> out;
  auto whole = d.decode_batch(std::string(101, ' '), out);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->code, ErrorCode::kTooLarge);
}

TEST(ApiDecoder, Batch) {
  ApiDecoder d;
  std::vector<ApiDecoded> out;
  auto whole =
      d.decode_batch(R"({"commands":[)"
                     R"({"method":"publish","params":{"channel":"a","data":{ "x" : "]}\"" }}},)"
                     R"({"method":"publish","params":{"channel":"a"}},)"
                     R"({"method":"info"},)"
                     R"({"params":{},"method":"broadcast"},)"
                     R"({"method":"batch","params":{}},)"
                     R"({"method":"nope"},)"
                     R"({"method":5},)"
                     R"({},)"
                     R"(7,)"
                     R"({"method":"info","params":[]},)"
                     R"({"method":"info","method":"info"},)"
                     R"({"params":{"data":[1, 2],"channel":"b"},"method":"publish"})"
                     R"(],"extra":true})",
                     out);
  ASSERT_FALSE(whole) << whole->message;
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(std::get<ApiCommand>(out[0]).data, R"({"x":"]}\""})");
  EXPECT_EQ(std::get<ApiError>(out[1]).code, ErrorCode::kMissingField);
  EXPECT_EQ(std::get<ApiError>(out[1]).message, "missing field: params.data");
  EXPECT_EQ(std::get<ApiCommand>(out[2]).method, ApiMethod::kInfo);
  EXPECT_EQ(std::get<ApiError>(out[3]).code, ErrorCode::kMissingField);
  EXPECT_EQ(std::get<ApiError>(out[4]).code, ErrorCode::kUnknownMethod);
  EXPECT_EQ(std::get<ApiError>(out[5]).code, ErrorCode::kUnknownMethod);
  EXPECT_EQ(std::get<ApiError>(out[6]).code, ErrorCode::kWrongType);
  EXPECT_EQ(std::get<ApiError>(out[7]).code, ErrorCode::kMissingField);
  EXPECT_EQ(std::get<ApiError>(out[8]).code, ErrorCode::kBadRequest);
  EXPECT_EQ(std::get<ApiError>(out[9]).code, ErrorCode::kWrongType);
  EXPECT_EQ(std::get<ApiError>(out[10]).code, ErrorCode::kDuplicateField);
  EXPECT_EQ(std::get<ApiCommand>(out[11]).data, "[1,2]");
  EXPECT_EQ(std::get<ApiCommand>(out[11]).channel, "b");
}

TEST(ApiDecoder, BatchAsAWholeErrors) {
  struct Case {
    std::string body;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"", ErrorCode::kMissingField},
      {"{}", ErrorCode::kMissingField},
      {R"({"commands":null})", ErrorCode::kMissingField},
      {R"({"commands":{}})", ErrorCode::kWrongType},
      {R"({"commands":[],"commands":[]})", ErrorCode::kDuplicateField},
      {"[]", ErrorCode::kBadRequest},
      {"{\"commands\":[", ErrorCode::kBadRequest},
  };
  ApiDecoder d;
  for (const Case& c : cases) {
    std::vector<ApiDecoded> out;
    auto whole = d.decode_batch(c.body, out);
    ASSERT_TRUE(whole) << c.body;
    EXPECT_EQ(whole->code, c.code) << c.body;
    EXPECT_TRUE(out.empty());
  }
  Limits limits;
  limits.max_batch_commands = 2;
  ApiDecoder small(limits);
  std::vector<ApiDecoded> out;
  auto whole = small.decode_batch(
      R"({"commands":[{"method":"info"},{"method":"info"},{"method":"info"}]})", out);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->code, ErrorCode::kLimitExceeded);
  std::vector<ApiDecoded> empty;
  EXPECT_FALSE(d.decode_batch(R"({"commands":[]})", empty));
  EXPECT_TRUE(empty.empty());
}

TEST(ApiDecoder, MethodNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(ApiMethod::kInfo); ++i) {
    auto m = static_cast<ApiMethod>(i);
    EXPECT_EQ(api_method_from_name(api_method_name(m)), m);
  }
  EXPECT_FALSE(api_method_from_name("batch"));
}

}  // namespace
}  // namespace herald::protocol
