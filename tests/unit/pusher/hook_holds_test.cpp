// The webhooks' hold keys (hook_holds.h): what hooks.cpp builds parses back to the app, kind,
// channel and user, and anything else (another layer's key, a malformed one, an app this node
// does not have) parses to nothing.
#include "pusher/hook_holds.h"

#include <gtest/gtest.h>

namespace herald::pusher {
namespace {

Apps two_apps() {
  PusherAppOptions a;
  a.id = "7";
  a.key = "k7";
  a.secret = "secret-777";
  PusherAppOptions b = a;
  b.id = "app.b-2";
  b.key = "kb";
  return Apps({a, b});
}

TEST(PusherHookHolds, KeysParseBackToWhatMadeThem) {
  Apps apps = two_apps();
  const App& a = *apps.by_id("7");
  const App& b = *apps.by_id("app.b-2");
  // A HoldKey's views are into the key: it stays alive while they are read.
  std::string occupancy = occupancy_hold(b, "pusher-app.b-2:orders");
  HoldKey k = parse_hold(apps, occupancy);
  EXPECT_EQ(k.app, &b);
  EXPECT_FALSE(k.member);
  EXPECT_EQ(k.channel, "pusher-app.b-2:orders");
  // A user id may hold anything, newlines and colons included: it comes last.
  std::string key = member_hold(a, "pusher-7:presence-room", "u:1\nx");
  k = parse_hold(apps, key);
  EXPECT_EQ(k.app, &a);
  EXPECT_TRUE(k.member);
  EXPECT_EQ(k.channel, "pusher-7:presence-room");
  EXPECT_EQ(k.user, "u:1\nx");
  std::string no_user = member_hold(a, "c", "");
  EXPECT_EQ(parse_hold(apps, no_user).user, "");
}

TEST(PusherHookHolds, OtherKeysParseToNothing) {
  Apps apps = two_apps();
  for (std::string_view bad : {"", "pusher:", "pusher:7", "pusher:7:", "pusher:7:o:",
                               "pusher:7:x:chan", "pusher:7:m:chan-without-user",
                               "pusher:9:o:chan", "other:7:o:chan", "pusher:7;o:chan"}) {
    EXPECT_EQ(parse_hold(apps, bad).app, nullptr) << bad;
  }
}

}  // namespace
}  // namespace herald::pusher
