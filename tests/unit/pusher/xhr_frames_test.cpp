#include "pusher/xhr_frames.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace herald::pusher {
namespace {

TEST(PusherXhrPath, TheThreeKindsAsPusherJsSendsThem) {
  XhrPath p;
  ASSERT_TRUE(parse_xhr_path("/pusher/app/app-key/123/abcdefgh/xhr_streaming", p));
  EXPECT_EQ(p.kind, XhrKind::kStreaming);
  EXPECT_EQ(p.key, "app-key");
  EXPECT_EQ(p.session_path, "app-key/123/abcdefgh");
  ASSERT_TRUE(parse_xhr_path("/pusher/app/k/7/0v_-Z/xhr", p));
  EXPECT_EQ(p.kind, XhrKind::kPolling);
  EXPECT_EQ(p.session_path, "k/7/0v_-Z");
  ASSERT_TRUE(parse_xhr_path("/pusher/app/k/7/s/xhr_send", p));
  EXPECT_EQ(p.kind, XhrKind::kSend);
}

TEST(PusherXhrPath, EverythingElseIsRefused) {
  XhrPath p;
  for (const char* bad : {
           "/pusher/app/k/1/s", "/pusher/app/k/1/s/", "/pusher/app/k/1/s/xhr/", "/pusher/app/k/1/s/x",
           "/pusher/app/k/1/s/xhr_send/more", "/pusher/app//1/s/xhr", "/pusher/app/k//s/xhr",
           "/pusher/app/k/1//xhr", "/pusher/app/k/1/a.b/xhr", "/pusher/app/k/1/a%2F/xhr",
           "/pusher/app/k/1/s/websocket", "/pusher/apps/k/1/s/xhr", "/app/k/1/s/xhr", "",
           "/pusher/app/k/1/ss/XHR"}) {
    EXPECT_FALSE(parse_xhr_path(bad, p)) << bad;
  }
  std::string long_id(65, 'a');
  EXPECT_FALSE(parse_xhr_path("/pusher/app/k/1/" + long_id + "/xhr", p));
  EXPECT_TRUE(parse_xhr_path("/pusher/app/k/1/" + long_id.substr(1) + "/xhr", p));
  EXPECT_FALSE(parse_xhr_path("/pusher/app/" + std::string(101, 'k') + "/1/s/xhr", p));
  // No proper prefix of a valid path is one, but for the one naming the shorter kind.
  std::string good = "/pusher/app/key/12/session/xhr_streaming";
  for (size_t n = 0; n < good.size(); ++n) {
    std::string prefix = good.substr(0, n);
    EXPECT_EQ(parse_xhr_path(prefix, p), prefix == "/pusher/app/key/12/session/xhr") << prefix;
  }
}

TEST(PusherXhrSend, ArraysOfStrings) {
  SendDecoder d;
  std::vector<std::string_view> events;
  ASSERT_TRUE(d.decode(R"(["{\"event\":\"pusher:ping\",\"data\":{}}"])", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], R"({"event":"pusher:ping","data":{}})");
  ASSERT_TRUE(d.decode(" [ ] ", events));
  EXPECT_TRUE(events.empty());  // the heartbeat
  ASSERT_TRUE(d.decode(R"(["a","b\u00e9"])", events));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], "b\xc3\xa9");
}

TEST(PusherXhrSend, AnythingElseIsRefused) {
  SendDecoder d;
  std::vector<std::string_view> events;
  for (const char* bad : {"", "[", "{}", R"({"event":"x"})", "[1]", R"(["a",1])", R"([["a"]])",
                          "null", R"("a")", "[\"\xff\"]", "[] []"}) {
    EXPECT_FALSE(d.decode(bad, events)) << bad;
    EXPECT_TRUE(events.empty());
  }
  std::string many = "[";
  for (size_t i = 0; i <= kMaxEventsPerSend; ++i) {
    many += i == 0 ? "\"\"" : ",\"\"";
  }
  many += "]";
  EXPECT_FALSE(d.decode(many, events));
}

TEST(PusherXhrFrames, QuotedEventsReadBackAsTheEvent) {
  simdjson::dom::parser parser;
  for (std::string event : {std::string(R"({"event":"e","data":"{\"a\":\"\\n\"}"})"),
                            std::string("line\nbreak \"quoted\" \\ \x01 \xe2\x80\xa8")}) {
    std::string frame = "[" + quote_event(event) + "]";
    simdjson::padded_string padded(frame);
    simdjson::dom::array array;
    ASSERT_EQ(parser.parse(padded).get_array().get(array), simdjson::SUCCESS) << frame;
    std::string_view back;
    ASSERT_EQ(array.at(0).get_string().get(back), simdjson::SUCCESS);
    EXPECT_EQ(back, event);
  }
}

TEST(PusherXhrFrames, CloseAndRefusal) {
  EXPECT_EQ(close_frame(4009, "bye \"now\""), "c[4009,\"bye \\\"now\\\"\"]\n");
  EXPECT_EQ(close_frame(4100, std::string(200, 'x')), "c[4100,\"" + std::string(123, 'x') + "\"]\n");
  std::string r = refusal_frames(4001, "App key k does not exist");
  EXPECT_TRUE(r.starts_with("o\na[\"{\\\"event\\\":\\\"pusher:error\\\""));
  EXPECT_TRUE(r.ends_with("]\nc[4001,\"App key k does not exist\"]\n"));
}

}  // namespace
}  // namespace herald::pusher
