#include "protocol/json_writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_util.h"

namespace herald::protocol {
namespace {

using testing::is_valid_json;
using testing::parse_json_string;

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, Escapes) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"a\"b", R"("a\"b")"},
      {"a\\b", R"("a\\b")"},
      {"/", R"("/")"},
      {"\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {std::string("\0", 1), R"("\u0000")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"\x7f", "\"\x7f\""},
      {"caf\xC3\xA9", "\"caf\xC3\xA9\""},                     // 2-byte UTF-8 kept
      {"\xE2\x82\xAC", "\"\xE2\x82\xAC\""},                   // 3-byte (euro)
      {"\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},           // 4-byte (emoji)
      {"\xEF\xBF\xBF", "\"\xEF\xBF\xBF\""},                   // U+FFFF
      {"\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""},           // U+10FFFF
      {"\xFF", R"("\ufffd")"},                                // never valid
      {"a\x80z", R"("a\ufffdz")"},                            // lone continuation
      {"\xC0\xAF", R"("\ufffd\ufffd")"},                      // overlong '/'
      {"\xE0\x80\xAF", R"("\ufffd\ufffd\ufffd")"},            // overlong, 3 bytes
      {"\xED\xA0\x80", R"("\ufffd\ufffd\ufffd")"},            // UTF-16 surrogate
      {"\xF4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // above U+10FFFF
      {"\xE2\x82", R"("\ufffd\ufffd")"},                      // truncated at the end
      {"\xE2\x82x", R"("\ufffd\ufffdx")"},                    // truncated in the middle
  };
  for (const Case& c : cases) {
    std::string out = json_quote(c.in);
    EXPECT_EQ(out, c.out);
    EXPECT_TRUE(is_valid_json(out)) << out;
  }
}

TEST(JsonString, AllSingleBytesRoundTripOrAreReplaced) {
  for (int b = 0; b < 256; ++b) {
    std::string in(1, static_cast<char>(b));
    std::string out = json_quote(in);
    std::string back;
    ASSERT_TRUE(parse_json_string(out, back)) << b;
    EXPECT_EQ(back, b < 0x80 ? in : "\xEF\xBF\xBD") << b;
  }
}

TEST(JsonString, RandomBytesAlwaysGiveValidJson) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string in(rng() % 40, '\0');
    for (char& c : in) {
      // Bias towards the interesting bytes.
      uint32_t r = rng() % 8;
      c = static_cast<char>(r == 0 ? rng() % 0x20 : r < 4 ? 0x80 + rng() % 0x80 : rng() % 256);
    }
    std::string out = json_quote(in);
    std::string back;
    ASSERT_TRUE(parse_json_string(out, back)) << out;
    // Valid UTF-8 (what simdjson accepts) must come back unchanged.
    if (simdjson::validate_utf8(in.data(), in.size())) {
      EXPECT_EQ(back, in);
    }
  }
}

TEST(JsonWriter, ObjectsArraysAndCommas) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .uint("a", 1)
      .str("b", "x\"y")
      .boolean("c", true)
      .boolean("d", false)
      .int64("e", -5)
      .raw("f", R"({"k":[1,2]})")
      .key("g")
      .null_value()
      .array("h")
      .uint_value(1)
      .string_value("s")
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .bool_value(false)
      .end_array()
      .object("i")
      .end_object()
      .uint("max", UINT64_MAX)
      .int64("min", INT64_MIN)
      .end_object();
  EXPECT_EQ(out, R"({"a":1,"b":"x\"y","c":true,"d":false,"e":-5,"f":{"k":[1,2]},"g":null,)"
                 R"("h":[1,"s",{},[],false],"i":{},"max":18446744073709551615,)"
                 R"("min":-9223372036854775808})");
  EXPECT_TRUE(is_valid_json(out));
}

TEST(JsonWriter, KeysAreEscaped) {
  std::string out;
  JsonWriter(out).begin_object().uint("a\"\n", 1).end_object();
  EXPECT_EQ(out, R"({"a\"\n":1})");
}

TEST(JsonWriter, AppendsToExistingText) {
  std::string out = "prefix ";
  JsonWriter(out).begin_array().uint_value(0).end_array();
  EXPECT_EQ(out, "prefix [0]");
}

}  // namespace
}  // namespace herald::protocol
