#include "protocol/channel.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::protocol {
namespace {

TEST(Channel, Validity) {
  struct Case {
    std::string name;
    bool valid;
  };
  const Case cases[] = {
      {"a", true},
      {"chat:room1", true},
      {"chat:room:2", true},
      {"A-Z_a.z@x/y=1,2!~", true},
      {"user:42", true},
      {"chat:", true},
      {std::string(255, 'x'), true},
      {"", false},
      {std::string(256, 'x'), false},
      {":x", false},
      {"a b", false},
      {"a*", false},
      {"a#b", true},  // user-limited (dialogs:#42,43)
      {"a$b", false},
      {"a\"b", false},
      {"a\\b", false},
      {"a\nb", false},
      {std::string("a\0b", 3), false},
      {"caf\xC3\xA9", false},
      {"a%20", false},
      {"a+b", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_valid_channel(c.name), c.valid) << c.name;
  }
  EXPECT_TRUE(is_valid_channel("abcd", 4));
  EXPECT_FALSE(is_valid_channel("abcde", 4));
}

TEST(Channel, EveryByteOutsideTheSetIsRefused) {
  const std::string allowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:@/=,!~#";
  for (int b = 0; b < 256; ++b) {
    std::string name = "x";
    name.push_back(static_cast<char>(b));
    bool expected = allowed.find(static_cast<char>(b)) != std::string::npos;
    EXPECT_EQ(is_valid_channel(name), expected) << b;
  }
}

TEST(Channel, UserLimited) {
  struct Case {
    const char* channel;
    const char* user;
    bool allowed;
  };
  const Case cases[] = {
      {"dialogs:#42,43", "42", true},
      {"dialogs:#42,43", "43", true},
      {"dialogs:#42,43", "4", false},
      {"dialogs:#42,43", "42,43", false},
      {"dialogs:#42,43", "", false},
      {"dialogs:#42", "42", true},
      {"dialogs:#", "", false},  // nobody
      {"dialogs:#", "42", false},
      {"dialogs:#42,,43", "", false},  // an empty entry does not let anonymous in
      {"dialogs:#42,", "", false},
      {"a#1#2", "2", true},  // the list is after the last '#'
      {"a#1#2", "1", false},
      {"#7", "7", true},  // default namespace
      {"news", "", true},  // not user-limited: anyone
      {"news", "42", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(user_allowed(c.channel, c.user), c.allowed) << c.channel << " / " << c.user;
  }
  EXPECT_TRUE(is_user_limited("dialogs:#42"));
  EXPECT_FALSE(is_user_limited("dialogs:42"));
}

TEST(Channel, Namespace) {
  EXPECT_EQ(namespace_of("chat:room1"), "chat");
  EXPECT_EQ(namespace_of("chat:room:2"), "chat");
  EXPECT_EQ(namespace_of("lobby"), "");
  EXPECT_EQ(namespace_of("chat:"), "chat");
  EXPECT_EQ(namespace_of(""), "");
}

TEST(Channel, PatternMatch) {
  struct Case {
    const char* pattern;
    const char* channel;
    bool match;
  };
  const Case cases[] = {
      {"", "anything", true},
      {"*", "", true},
      {"*", "chat:room1", true},
      {"chat:*", "chat:room1", true},
      {"chat:*", "chat:", true},
      {"chat:*", "news", false},
      {"*:room1", "chat:room1", true},
      {"*room*", "chat:room1", true},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"exact", "exact", true},
      {"exact", "exactly", false},
      {"a**b", "ab", true},
      {"*a", "bbbb", false},
      {"user:4?", "user:42", false},  // '?' is a literal byte
  };
  for (const Case& c : cases) {
    EXPECT_EQ(channel_matches(c.pattern, c.channel), c.match) << c.pattern << " " << c.channel;
  }
  // Worst case for greedy matching stays fast (both sides bounded by 255 in practice).
  std::string many(255, 'a');
  EXPECT_FALSE(channel_matches("*a*a*a*a*a*a*a*a*b", many));
}

}  // namespace
}  // namespace herald::protocol
