#include "pusher/channels.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::pusher {
namespace {

TEST(PusherChannels, Kinds) {
  EXPECT_EQ(channel_kind("news"), ChannelKind::kPublic);
  EXPECT_EQ(channel_kind("private-a"), ChannelKind::kPrivate);
  EXPECT_EQ(channel_kind("presence-a"), ChannelKind::kPresence);
  EXPECT_EQ(channel_kind("private-encrypted-a"), ChannelKind::kPrivateEncrypted);
  EXPECT_EQ(channel_kind("cache-a"), ChannelKind::kCache);
  EXPECT_EQ(channel_kind("private-cache-a"), ChannelKind::kPrivateCache);
  EXPECT_EQ(channel_kind("presence-cache-a"), ChannelKind::kPresenceCache);
  EXPECT_EQ(channel_kind("private-encrypted-cache-a"), ChannelKind::kPrivateEncryptedCache);
  EXPECT_EQ(channel_kind("#server-to-user-7"), ChannelKind::kServerToUser);
  EXPECT_TRUE(needs_auth(ChannelKind::kPrivateEncrypted));
  EXPECT_FALSE(needs_auth(ChannelKind::kCache));
  EXPECT_FALSE(allows_client_events(ChannelKind::kPrivateEncrypted));
  EXPECT_FALSE(allows_client_events(ChannelKind::kPublic));
  EXPECT_TRUE(allows_client_events(ChannelKind::kPresence));
}

TEST(PusherChannels, Names) {
  EXPECT_TRUE(valid_channel_name("a-b_c=d@e,f.g;h"));
  EXPECT_TRUE(valid_channel_name(std::string(200, 'a')));
  EXPECT_FALSE(valid_channel_name(std::string(201, 'a')));
  EXPECT_FALSE(valid_channel_name(""));
  EXPECT_FALSE(valid_channel_name("a:b"));
  EXPECT_FALSE(valid_channel_name("a b"));
  EXPECT_FALSE(valid_channel_name("#other"));
  EXPECT_TRUE(valid_channel_name("#server-to-user-42"));
  EXPECT_FALSE(valid_channel_name("#server-to-user-"));
  EXPECT_EQ(server_to_user_id("#server-to-user-42"), "42");
  EXPECT_EQ(server_to_user_id("private-a"), "");
}

TEST(PusherChannels, HeraldNames) {
  EXPECT_EQ(herald_channel("pusher-1", "private-a"), "pusher-1:private-a");
  EXPECT_EQ(pusher_channel("pusher-1", "pusher-1:private-a"), "private-a");
  EXPECT_EQ(pusher_channel("pusher-1", "pusher-10:private-a"), "");
  EXPECT_EQ(pusher_channel("pusher-1", "pusher-1"), "");
  EXPECT_EQ(pusher_channel("pusher-1", "other:x"), "");
}

}  // namespace
}  // namespace herald::pusher
