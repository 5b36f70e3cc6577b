#include "http/url.h"

#include <string>

#include "gtest/gtest.h"

namespace herald::http {
namespace {

std::optional<std::string> decode(std::string_view in, bool plus = false) {
  std::string out;
  if (!percent_decode(in, out, plus)) {
    return std::nullopt;
  }
  return out;
}

TEST(PercentDecode, Rfc3986Examples) {
  EXPECT_EQ(decode(""), "");
  EXPECT_EQ(decode("plain"), "plain");
  EXPECT_EQ(decode("a%20b"), "a b");
  EXPECT_EQ(decode("%41%42%43"), "ABC");
  EXPECT_EQ(decode("%e2%82%AC"), "\xe2\x82\xac");  // hex digits in either case
  EXPECT_EQ(decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(decode("100%25"), "100%");
  EXPECT_EQ(decode("a+b"), "a+b");
  EXPECT_EQ(decode("a+b", true), "a b");
}

TEST(PercentDecode, InvalidEscapesAreErrors) {
  EXPECT_EQ(decode("%"), std::nullopt);
  EXPECT_EQ(decode("%4"), std::nullopt);
  EXPECT_EQ(decode("abc%"), std::nullopt);
  EXPECT_EQ(decode("%zz"), std::nullopt);
  EXPECT_EQ(decode("%4g"), std::nullopt);
  EXPECT_EQ(decode("%g4"), std::nullopt);
  EXPECT_EQ(decode("%%41"), std::nullopt);
}

TEST(PercentDecode, Appends) {
  std::string out = "x";
  EXPECT_TRUE(percent_decode("%79", out));
  EXPECT_EQ(out, "xy");
}

TEST(QueryParam, FindsRawValues) {
  std::string_view q = "channel=news%2Fsport&token=a.b.c&flag&empty=&channel=second";
  EXPECT_EQ(query_param(q, "channel"), "news%2Fsport");  // first wins, undecoded
  EXPECT_EQ(query_param(q, "token"), "a.b.c");
  EXPECT_EQ(query_param(q, "flag"), "");
  EXPECT_EQ(query_param(q, "empty"), "");
  EXPECT_EQ(query_param(q, "missing"), std::nullopt);
  EXPECT_EQ(query_param(q, "chan"), std::nullopt);
  EXPECT_EQ(query_param("", "a"), std::nullopt);
  EXPECT_EQ(query_param("a=1=2", "a"), "1=2");
  EXPECT_EQ(query_param("&&a=1&", "a"), "1");
  EXPECT_EQ(query_param("=x", ""), "x");
}

TEST(QueryParam, Decoded) {
  std::string_view q = "c=news%2Fsport&m=hello+world&bad=%zz";
  EXPECT_EQ(query_param_decoded(q, "c"), "news/sport");
  EXPECT_EQ(query_param_decoded(q, "m"), "hello world");
  EXPECT_EQ(query_param_decoded(q, "bad"), std::nullopt);
  EXPECT_EQ(query_param_decoded(q, "none"), std::nullopt);
}

TEST(QueryParam, EveryValueOfARepeatedName) {
  using V = std::vector<std::string>;
  EXPECT_EQ(query_values_decoded("channel=a&x=1&channel=b%3A1&channel", "channel"),
            (V{"a", "b:1", ""}));
  EXPECT_EQ(query_values_decoded("channel=%zz&channel=ok", "channel"), (V{"ok"}));
  EXPECT_EQ(query_values_decoded("", "channel"), V{});
  EXPECT_EQ(query_values_decoded("channels=a", "channel"), V{});
}

}  // namespace
}  // namespace herald::http
