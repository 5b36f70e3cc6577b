#include "pusher/frames.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::pusher {
namespace {

// Every case whole and then one prefix at a time (a frame arrives whole, but every prefix is a
// frame some client may send).
TEST(PusherFrames, DecodesSubscribe) {
  FrameDecoder d;
  ClientFrame f;
  ASSERT_EQ(d.decode(R"({"event":"pusher:subscribe","data":{"channel":"presence-a","auth":"k:s",)"
                     R"("channel_data":"{\"user_id\":1}"}})",
                     f),
            FrameError::kNone);
  EXPECT_EQ(f.event, "pusher:subscribe");
  EXPECT_EQ(f.channel, "presence-a");
  EXPECT_EQ(f.auth, "k:s");
  EXPECT_TRUE(f.has_channel_data);
  EXPECT_EQ(f.channel_data, R"({"user_id":1})");
}

TEST(PusherFrames, DataAsAStringHoldingAnObject) {
  FrameDecoder d;
  ClientFrame f;
  ASSERT_EQ(d.decode(R"({"event":"pusher:subscribe","data":"{\"channel\":\"x\"}"})", f),
            FrameError::kNone);
  EXPECT_EQ(f.channel, "x");
}

TEST(PusherFrames, ClientEventKeepsRawData) {
  FrameDecoder d;
  ClientFrame f;
  ASSERT_EQ(d.decode(R"({"event":"client-a","channel":"private-c","data":{ "n" : 1.50 }})", f),
            FrameError::kNone);
  EXPECT_EQ(f.data, R"({ "n" : 1.50 })");
  ASSERT_EQ(d.decode(R"({"event":"client-a","channel":"private-c","data": 12 })", f),
            FrameError::kNone);
  EXPECT_EQ(f.data, "12");
}

TEST(PusherFrames, Refusals) {
  FrameDecoder d;
  ClientFrame f;
  EXPECT_EQ(d.decode("{not json", f), FrameError::kNotJson);
  EXPECT_EQ(d.decode("", f), FrameError::kNotJson);
  EXPECT_EQ(d.decode("[1]", f), FrameError::kNotObject);
  EXPECT_EQ(d.decode(R"({"data":{}})", f), FrameError::kNoEvent);
  EXPECT_EQ(d.decode(R"({"event":""})", f), FrameError::kNoEvent);
  EXPECT_EQ(d.decode(R"({"event":7})", f), FrameError::kNoEvent);
  EXPECT_EQ(d.decode(R"({"event":")" + std::string(201, 'e') + R"("})", f), FrameError::kNoEvent);
  EXPECT_EQ(d.decode(R"({"event":"pusher:subscribe","data":[1]})", f), FrameError::kBadData);
  EXPECT_EQ(d.decode(R"({"event":"pusher:subscribe","data":"nope"})", f), FrameError::kBadData);
  std::string deep(100, '[');
  EXPECT_EQ(d.decode(R"({"event":"client-x","data":)" + deep + "}", f), FrameError::kNotJson);
  // Every prefix of a valid frame is refused or decoded, never a crash.
  std::string whole = R"({"event":"pusher:subscribe","data":{"channel":"c","auth":"k:s"}})";
  for (size_t n = 0; n < whole.size(); ++n) {
    EXPECT_NE(d.decode(whole.substr(0, n), f), FrameError::kNone) << n;
  }
}

TEST(PusherFrames, ServerMessages) {
  EXPECT_EQ(connection_established("1.2", 120),
            R"({"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",)"
            R"(\"activity_timeout\":120}"})");
  EXPECT_EQ(error_event(4301, "slow down"),
            R"({"event":"pusher:error","data":{"code":4301,"message":"slow down"}})");
  EXPECT_EQ(subscription_error("private-a", "AuthError", "bad", 401),
            R"({"event":"pusher:subscription_error","channel":"private-a",)"
            R"("data":"{\"type\":\"AuthError\",\"error\":\"bad\",\"status\":401}"})");
}

TEST(PusherFrames, PublicationMapping) {
  JsonObject reader;
  std::string pub = publication_data("client-x", R"({"a":1})", "u1");
  EXPECT_EQ(pub, R"({"event":"client-x","data":{"a":1},"user_id":"u1"})");
  EventView v = read_publication(reader, pub);
  EXPECT_EQ(v.event, "client-x");
  EXPECT_EQ(v.data, R"({"a":1})");
  EXPECT_EQ(v.user_id, "u1");
  // Another shape: event "message" with the whole data.
  v = read_publication(reader, R"({"text":"hi"})");
  EXPECT_EQ(v.event, "message");
  EXPECT_EQ(v.data, R"({"text":"hi"})");
  v = read_publication(reader, "[1,2]");
  EXPECT_EQ(v.event, "message");
  std::string out;
  append_event(out, "e", "ch", R"("s")", "");
  EXPECT_EQ(out, R"({"event":"e","channel":"ch","data":"s"})");
}

}  // namespace
}  // namespace herald::pusher
