#include "json_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::bench {
namespace {

struct ValidCase {
  std::string text;
  JsonType type;
};

// Values from RFC 8259 (sections 3-7 and the examples of section 13), and edge cases.
const std::vector<ValidCase> kValid = {
    {"null", JsonType::kNull},
    {"true", JsonType::kBool},
    {"false", JsonType::kBool},
    {"0", JsonType::kNumber},
    {"-0", JsonType::kNumber},
    {"42", JsonType::kNumber},
    {"-12.5e+10", JsonType::kNumber},
    {"1E-2", JsonType::kNumber},
    {"\"\"", JsonType::kString},
    {"\"Hello\\nWorld \\\"quoted\\\" \\\\ \\/ \\b\\f\\r\\t\"", JsonType::kString},
    {"\"\\u00e9\\uD834\\uDD1E\"", JsonType::kString},
    {"\"caf\xc3\xa9\"", JsonType::kString},
    {"[]", JsonType::kArray},
    {"[ 1 , \"a\" , null , [ ] , { } ]", JsonType::kArray},
    {"{}", JsonType::kObject},
    {" \t\r\n{ \"a\" : 1 } \n", JsonType::kObject},
    {"{\"Image\":{\"Width\":800,\"Height\":600,\"Title\":\"View from 15th Floor\","
     "\"Thumbnail\":{\"Url\":\"http://www.example.com/image/481989943\",\"Height\":125,"
     "\"Width\":100},\"Animated\":false,\"IDs\":[116,943,234,38793]}}",
     JsonType::kObject},
    {"[{\"precision\":\"zip\",\"Latitude\":37.7668,\"Longitude\":-122.3959,\"Address\":\"\","
     "\"City\":\"SAN FRANCISCO\",\"State\":\"CA\",\"Zip\":\"94107\",\"Country\":\"US\"}]",
     JsonType::kArray},
};

TEST(JsonScan, ValidValuesParseWithTheirTypeAndExactBytes) {
  for (const auto& c : kValid) {
    JsonValue v;
    ASSERT_EQ(parse_value(c.text, &v), JsonError::kNone) << c.text;
    EXPECT_EQ(v.type, c.type) << c.text;
    // raw is the value itself, without the surrounding whitespace.
    size_t first = c.text.find_first_not_of(" \t\r\n");
    size_t last = c.text.find_last_not_of(" \t\r\n");
    EXPECT_EQ(v.raw, std::string_view(c.text).substr(first, last - first + 1));
  }
}

// A line cut anywhere is never taken for a whole value (numbers excepted: "12" is a number).
TEST(JsonScan, EveryProperPrefixOfAContainerStringOrLiteralIsAnError) {
  for (const auto& c : kValid) {
    if (c.type == JsonType::kNumber) {
      continue;
    }
    std::string trimmed = c.text.substr(0, c.text.find_last_not_of(" \t\r\n") + 1);
    for (size_t n = 0; n < trimmed.size(); ++n) {
      JsonValue v;
      EXPECT_NE(parse_value(trimmed.substr(0, n), &v), JsonError::kNone)
          << "prefix " << n << " of " << trimmed;
    }
  }
}

TEST(JsonScan, PrefixesEndingInsideAValueSayEnd) {
  for (std::string text : {"{\"a\":[1,2", "\"abc", "[", "{", "{\"a\"", "{\"a\":", "tr", "-", "1.",
                           "1e", "1e+", "\"\\", "\"\\u12"}) {
    JsonValue v;
    EXPECT_EQ(parse_value(text, &v), JsonError::kEnd) << text;
  }
}

struct InvalidCase {
  std::string text;
  JsonError error;
};

TEST(JsonScan, InvalidValuesGiveTheirError) {
  const std::vector<InvalidCase> cases = {
      {"", JsonError::kEnd},
      {"   ", JsonError::kEnd},
      {"{\"a\" 1}", JsonError::kBadToken},
      {"{\"a\":}", JsonError::kBadToken},
      {"{,}", JsonError::kBadToken},
      {"{\"a\":1,}", JsonError::kBadToken},
      {"{1:2}", JsonError::kBadToken},
      {"[1,]", JsonError::kBadToken},
      {"[1 2]", JsonError::kBadToken},
      {"{\"a\":1]", JsonError::kBadToken},
      {"[1}", JsonError::kBadToken},
      {"'a'", JsonError::kBadToken},
      {"tru", JsonError::kEnd},
      {"trve", JsonError::kBadToken},
      {"nul", JsonError::kEnd},
      {"nulL", JsonError::kBadToken},
      {"+1", JsonError::kBadToken},
      {".5", JsonError::kBadToken},
      {"-a", JsonError::kBadNumber},
      {"1.e5", JsonError::kBadNumber},
      {"1ex", JsonError::kBadNumber},
      {"01", JsonError::kTrailing},
      {"1 2", JsonError::kTrailing},
      {"{} x", JsonError::kTrailing},
      {"\"a\\x\"", JsonError::kBadString},
      {"\"\\u12G4\"", JsonError::kBadString},
      {"\"tab\there\"", JsonError::kBadString},
      {std::string("\"nul\0\"", 6), JsonError::kBadString},
      {"\"a\nb\"", JsonError::kBadString},
  };
  for (const auto& c : cases) {
    JsonValue v;
    EXPECT_EQ(parse_value(c.text, &v), c.error) << c.text;
  }
}

TEST(JsonScan, NestingIsCappedAtTheLimit) {
  std::string ok(kMaxJsonDepth + 1, '[');
  ok.append(kMaxJsonDepth + 1, ']');
  JsonValue v;
  EXPECT_EQ(parse_value(ok, &v), JsonError::kNone);
  std::string deep(kMaxJsonDepth + 2, '[');
  deep.append(kMaxJsonDepth + 2, ']');
  EXPECT_EQ(parse_value(deep, &v), JsonError::kTooDeep);
  // Far deeper than the stack could take if the depth were not capped.
  std::string very_deep(1 << 20, '[');
  EXPECT_EQ(parse_value(very_deep, &v), JsonError::kTooDeep);
}

TEST(JsonScan, MembersComeInOrderAsViews) {
  JsonValue v;
  ASSERT_EQ(parse_value("{\"a\":1, \"b\" : [true], \"c\\\"d\":{\"x\":null}}", &v),
            JsonError::kNone);
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_EQ(for_each_member(v,
                            [&](std::string_view k, const JsonValue& m) {
                              seen.emplace_back(k, m.raw);
                              return true;
                            }),
            JsonError::kNone);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>{"b", "[true]"}));
  EXPECT_EQ(seen[2], (std::pair<std::string, std::string>{"c\\\"d", "{\"x\":null}"}));
}

TEST(JsonScan, WalksStopWhenTheCallbackSaysSo) {
  JsonValue v;
  ASSERT_EQ(parse_value("{\"a\":1,\"b\":2,\"c\":3}", &v), JsonError::kNone);
  int calls = 0;
  EXPECT_EQ(for_each_member(v, [&](std::string_view, const JsonValue&) { return ++calls < 2; }),
            JsonError::kNone);
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(parse_value("[1,2,3,4]", &v), JsonError::kNone);
  calls = 0;
  EXPECT_EQ(for_each_element(v, [&](const JsonValue&) { return ++calls < 3; }), JsonError::kNone);
  EXPECT_EQ(calls, 3);
}

TEST(JsonScan, ElementsComeInOrder) {
  JsonValue v;
  ASSERT_EQ(parse_value("[ 1 ,\"two\", [3] ]", &v), JsonError::kNone);
  std::vector<std::string> seen;
  ASSERT_EQ(for_each_element(v,
                             [&](const JsonValue& e) {
                               seen.emplace_back(e.raw);
                               return true;
                             }),
            JsonError::kNone);
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "\"two\"", "[3]"}));
  ASSERT_EQ(parse_value("[]", &v), JsonError::kNone);
  EXPECT_EQ(for_each_element(v, [](const JsonValue&) { return true; }), JsonError::kNone);
}

TEST(JsonScan, WalksRefuseTheWrongTypeAndReportDamagedInput) {
  JsonValue v;
  ASSERT_EQ(parse_value("[1]", &v), JsonError::kNone);
  auto any_member = [](std::string_view, const JsonValue&) { return true; };
  auto any_element = [](const JsonValue&) { return true; };
  EXPECT_EQ(for_each_member(v, any_member), JsonError::kWrongType);
  ASSERT_EQ(parse_value("{}", &v), JsonError::kNone);
  EXPECT_EQ(for_each_element(v, any_element), JsonError::kWrongType);
  // Values built by hand (not read by parse_value) are still walked safely.
  for (std::string text : {"{\"a\":1", "{\"a\" 1}", "{1:1}", "{\"a\":1 \"b\":2}", "{\"a\":"}) {
    EXPECT_NE(for_each_member(JsonValue{JsonType::kObject, text}, any_member), JsonError::kNone)
        << text;
  }
  for (std::string text : {"[1", "[1 2]", "[1,", "[x]"}) {
    EXPECT_NE(for_each_element(JsonValue{JsonType::kArray, text}, any_element), JsonError::kNone)
        << text;
  }
}

TEST(JsonScan, U64TakesOnlyPlainNonNegativeIntegers) {
  struct Case {
    std::string text;
    bool ok;
    uint64_t value;
  };
  const std::vector<Case> cases = {
      {"0", true, 0},
      {"7", true, 7},
      {"18446744073709551615", true, UINT64_MAX},
      {"18446744073709551616", false, 0},
      {"99999999999999999999", false, 0},
      {"-1", false, 0},
      {"1.0", false, 0},
      {"1e3", false, 0},
  };
  for (const auto& c : cases) {
    JsonValue v;
    ASSERT_EQ(parse_value(c.text, &v), JsonError::kNone) << c.text;
    uint64_t out = 12345;
    EXPECT_EQ(v.to_u64(&out), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(out, c.value);
    }
  }
  uint64_t out = 0;
  EXPECT_FALSE((JsonValue{JsonType::kString, "\"1\""}.to_u64(&out)));
  EXPECT_FALSE((JsonValue{JsonType::kNumber, "01"}.to_u64(&out)));
}

TEST(JsonScan, StringBodyIsBetweenTheQuotes) {
  EXPECT_EQ((JsonValue{JsonType::kString, "\"a\\nb\""}.string_body()), "a\\nb");
  EXPECT_EQ((JsonValue{JsonType::kString, "\"\""}.string_body()), "");
  EXPECT_EQ((JsonValue{JsonType::kNumber, "12"}.string_body()), "");
}

TEST(JsonScan, EveryErrorHasAName) {
  for (int e = 0; e <= static_cast<int>(JsonError::kWrongType); ++e) {
    EXPECT_NE(to_string(static_cast<JsonError>(e)), "?");
  }
}

}  // namespace
}  // namespace herald::bench
