#include "auth/raw_json.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::auth {
namespace {

struct Case {
  std::string_view object;
  size_t index;
  std::string_view value;  // "" = refused
};

constexpr Case kCases[] = {
    {R"({"a":1})", 0, "1"},
    {R"({"a":1})", 1, ""},
    {R"({})", 0, ""},
    {R"( { "a" : -1.5e3 , "b" : true } )", 0, "-1.5e3"},
    {R"( { "a" : -1.5e3 , "b" : true } )", 1, "true"},
    {R"({"a":null,"b":false})", 1, "false"},
    {R"({"a":"x\"}{,","b":2})", 0, R"("x\"}{,")"},
    {R"({"a":"x\"}{,","b":2})", 1, "2"},
    {R"({"a\"":[1,{"b":"]"}],"c":{"d":[{}]}})", 0, R"([1,{"b":"]"}])"},
    {R"({"a\"":[1,{"b":"]"}],"c":{"d":[{}]}})", 1, R"({"d":[{}]})"},
    {R"({"a":"\\","b":"c"})", 1, R"("c")"},
    {"{\"a\":\n[ 1 ,\t2 ]\r\n}", 0, "[ 1 ,\t2 ]"},
    // Not what simdjson accepts: refused, never read past the end.
    {R"([1])", 0, ""},
    {R"({"a")", 0, ""},
    {R"({"a":)", 0, ""},
    {R"({"a":"x)", 0, ""},
    {R"({"a":[1)", 0, ""},
    {R"({"a":1)", 1, ""},
    {R"({a:1})", 0, ""},
    {"", 0, ""},
};

TEST(RawMemberValue, Table) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.object) + " #" + std::to_string(c.index));
    EXPECT_EQ(raw_member_value(c.object, c.index), c.value);
  }
}

TEST(RawMemberValue, EveryPrefixIsSafe) {
  const std::string text = R"({"x":"}\"{[","y":[{"a":"]"}],"info":{"k":"v w"}})";
  EXPECT_EQ(raw_member_value(text, 2), R"({"k":"v w"})");
  for (size_t n = 0; n < text.size(); ++n) {
    std::string prefix = text.substr(0, n);  // own allocation: ASan sees any over-read
    for (size_t k = 0; k < 3; ++k) {
      std::string_view v = raw_member_value(prefix, k);
      if (!v.empty()) {
        EXPECT_GE(v.data(), prefix.data());
        EXPECT_LE(v.data() + v.size(), prefix.data() + prefix.size());
      }
    }
  }
}

TEST(MinifyInto, RemovesWhitespaceOutsideStringsOnly) {
  std::string out = "old";
  ASSERT_TRUE(minify_into("{ \"a b\" : [ 1.0e2 ,\n\"\\u00e9 \" ] }", out));
  EXPECT_EQ(out, R"({"a b":[1.0e2,"\u00e9 "]})");
  ASSERT_TRUE(minify_into("7", out));
  EXPECT_EQ(out, "7");
}

TEST(MinifyInto, RefusesAnUnterminatedString) {
  std::string out = "old";
  EXPECT_FALSE(minify_into(R"({"a":"b)", out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace herald::auth
