#include "herald_wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::bench {
namespace {

TEST(HeraldWire, StampRoundTripsInsideTheDataBody) {
  std::string body = make_data_body(64);
  ASSERT_EQ(body.size(), 64u);
  write_stamp(body.data(), Stamp{0x0123456789abcdefULL, 42});
  Stamp s;
  ASSERT_TRUE(read_stamp(body, &s));
  EXPECT_EQ(s.seq, 0x0123456789abcdefULL);
  EXPECT_EQ(s.sent_ns, 42u);
  EXPECT_EQ(body.substr(kStampSize), std::string(64 - kStampSize, 'x'));
  EXPECT_EQ(make_data_body(3).size(), kStampSize);  // never shorter than the stamp
}

TEST(HeraldWire, DamagedStampsAreRefused) {
  std::string good = make_data_body(kStampSize);
  Stamp s;
  ASSERT_TRUE(read_stamp(good, &s));
  EXPECT_FALSE(read_stamp(good.substr(0, kStampSize - 1), &s));
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_FALSE(read_stamp(bad, &s));
  bad = good;
  bad[5] = 'A';  // upper case is not what we write
  EXPECT_FALSE(read_stamp(bad, &s));
  bad = good;
  bad[kStampSize - 1] = 'g';
  EXPECT_FALSE(read_stamp(bad, &s));
  EXPECT_FALSE(read_stamp("", &s));
}

TEST(HeraldWire, CommandsAreTheDocumentedLines) {
  std::string out;
  append_connect(out, 1);
  EXPECT_EQ(out, R"({"id":1,"method":"connect","params":{"name":"herald-bench"}})");
  out.clear();
  append_subscribe(out, 2, "chat:room1");
  EXPECT_EQ(out, R"({"id":2,"method":"subscribe","params":{"channel":"chat:room1"}})");
  out.clear();
  append_subscribe_since(out, 3, "chat:room2", 5, "x7Fq2a");
  EXPECT_EQ(out, R"({"id":3,"method":"subscribe","params":{"channel":"chat:room2",)"
                 R"("since":{"offset":5,"epoch":"x7Fq2a"}}})");
  out.clear();
  append_publish(out, 4294967295u, "news", "HBx");
  EXPECT_EQ(out,
            R"({"id":4294967295,"method":"publish","params":{"channel":"news","data":"HBx"}})");
  out.clear();
  append_api_publish(out, "chat:room1", "hi");
  EXPECT_EQ(out, R"({"channel":"chat:room1","data":"hi"})");
  out.clear();
  append_subscribe_since(out, 18, "c", 0, "");
  JsonValue v;
  EXPECT_EQ(parse_value(out, &v), JsonError::kNone);
}

TEST(HeraldWire, RepliesFromTheProtocolDocument) {
  ServerLine l;
  ASSERT_EQ(parse_server_line(R"({"id":6,"result":{"offset":8,"epoch":"x7Fq2a"}})", &l),
            JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kReply);
  EXPECT_EQ(l.id, 6u);
  EXPECT_FALSE(l.is_error);
  EXPECT_EQ(l.result.raw, R"({"offset":8,"epoch":"x7Fq2a"})");

  ASSERT_EQ(parse_server_line(R"({"id":30,"error":{"code":106,"message":"already subscribed",)"
                              R"("temporary":false}})",
                              &l),
            JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kReply);
  EXPECT_TRUE(l.is_error);
  EXPECT_EQ(l.error_code, 106u);

  ASSERT_EQ(parse_server_line(R"({"id":0,"error":{"code":100,"message":"bad request"}})", &l),
            JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kReply);
  EXPECT_EQ(l.id, 0u);
}

TEST(HeraldWire, PushesFromTheProtocolDocument) {
  ServerLine l;
  ASSERT_EQ(
      parse_server_line(R"({"push":"message","channel":"chat:room1","offset":9,)"
                        R"("epoch":"x7Fq2a","data":{"text":"hi all"},)"
                        R"("info":{"user":"42","client":"a41c0d9e77f3"},"time":1764000003000})",
                        &l),
      JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kPush);
  EXPECT_EQ(l.push, "message");
  EXPECT_EQ(l.channel, "chat:room1");
  EXPECT_EQ(l.offset, 9u);
  EXPECT_EQ(l.epoch, "x7Fq2a");
  EXPECT_EQ(l.data.raw, R"({"text":"hi all"})");

  ASSERT_EQ(parse_server_line(R"({"push":"join","channel":"chat:room1","info":{"user":"7",)"
                              R"("client":"c0ffee12ab34","info":{"name":"Bo"}}})",
                              &l),
            JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kPush);
  EXPECT_EQ(l.push, "join");

  // Unknown fields and unknown push types are not errors (the protocol may grow).
  ASSERT_EQ(parse_server_line(R"({"push":"future","x":[1,{"y":2}]})", &l), JsonError::kNone);
  EXPECT_EQ(l.push, "future");
  ASSERT_EQ(parse_server_line(R"({"hello":1})", &l), JsonError::kNone);
  EXPECT_EQ(l.kind, ServerLine::Kind::kOther);
}

TEST(HeraldWire, MalformedLinesAreErrors) {
  const std::vector<std::pair<std::string, JsonError>> cases = {
      {"", JsonError::kEnd},
      {"hello, server", JsonError::kBadToken},
      {"[1,2,3]", JsonError::kWrongType},
      {R"({"id":"1","result":{}})", JsonError::kWrongType},
      {R"({"id":-1,"result":{}})", JsonError::kWrongType},
      {R"({"push":5})", JsonError::kWrongType},
      {R"({"id":1,"error":5})", JsonError::kWrongType},
      {R"({"id":1,"result":{})", JsonError::kEnd},
      {R"({"id":1} {"id":2})", JsonError::kTrailing},
  };
  for (const auto& [text, error] : cases) {
    ServerLine l;
    EXPECT_EQ(parse_server_line(text, &l), error) << text;
  }
}

TEST(HeraldWire, SubscribeResultWithRecoveredPublications) {
  ServerLine l;
  ASSERT_EQ(
      parse_server_line(
          R"({"id":3,"result":{"epoch":"x7Fq2a","offset":7,"recoverable":true,"recovered":true,)"
          R"("publications":[{"offset":6,"epoch":"x7Fq2a","data":{"text":"hi"},)"
          R"("time":1764000000000},)"
          R"({"offset":7,"epoch":"x7Fq2a","data":{"text":"there"},"info":{"user":"42",)"
          R"("client":"a41c0d9e77f3"},"time":1764000000500}]}})",
          &l),
      JsonError::kNone);
  SubscribeResult r;
  ASSERT_EQ(parse_subscribe_result(l.result, &r), JsonError::kNone);
  EXPECT_EQ(r.epoch, "x7Fq2a");
  EXPECT_EQ(r.offset, 7u);
  EXPECT_TRUE(r.recoverable);
  EXPECT_TRUE(r.recovered);
  std::vector<uint64_t> offsets;
  std::vector<std::string> data;
  ASSERT_EQ(for_each_element(r.publications,
                             [&](const JsonValue& v) {
                               PublicationView p;
                               EXPECT_EQ(parse_publication(v, &p), JsonError::kNone);
                               offsets.push_back(p.offset);
                               data.emplace_back(p.data.raw);
                               EXPECT_EQ(p.epoch, "x7Fq2a");
                               return true;
                             }),
            JsonError::kNone);
  EXPECT_EQ(offsets, (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(data, (std::vector<std::string>{R"({"text":"hi"})", R"({"text":"there"})"}));
}

TEST(HeraldWire, MalformedSubscribeResultsAreErrors) {
  for (std::string text :
       {R"({"epoch":"e","offset":1,"recoverable":true,"recovered":false})",
        R"({"epoch":"e","offset":"1","recoverable":true,"recovered":false,"publications":[]})",
        R"({"epoch":1,"offset":1,"recoverable":true,"recovered":false,"publications":[]})",
        R"({"epoch":"e","offset":1,"recoverable":1,"recovered":false,"publications":[]})",
        R"({"epoch":"e","offset":1,"recoverable":true,"recovered":"no","publications":[]})",
        R"({"epoch":"e","offset":1,"recoverable":true,"recovered":false,"publications":{}})",
        R"([])"}) {
    JsonValue v;
    ASSERT_EQ(parse_value(text, &v), JsonError::kNone);
    SubscribeResult r;
    EXPECT_NE(parse_subscribe_result(v, &r), JsonError::kNone) << text;
  }
}

TEST(HeraldWire, PublicationsNeedAnIntegerOffset) {
  for (std::string text : {R"({"epoch":"e","data":1})", R"({"offset":-1,"data":1})",
                           R"({"offset":"3","data":1})", R"([1])"}) {
    JsonValue v;
    ASSERT_EQ(parse_value(text, &v), JsonError::kNone);
    PublicationView p;
    EXPECT_NE(parse_publication(v, &p), JsonError::kNone) << text;
  }
}

TEST(HeraldWire, FramesSplitIntoNonEmptyLines) {
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  for_each_line("{\"a\":1}\n\n{\"b\":2}\n", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  lines.clear();
  for_each_line("", collect);
  for_each_line("\n\n", collect);
  EXPECT_TRUE(lines.empty());
  for_each_line("x", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"x"}));
}

// What POST /connection/poll and GET /connection/poll?session=&cursor= answer with status 200.
TEST(HeraldWire, PollAnswers) {
  uint64_t cursor = 99;
  std::string_view lines = "x";
  ASSERT_EQ(parse_poll_answer(R"({"cursor":0})", &cursor, &lines), JsonError::kNone);
  EXPECT_EQ(cursor, 0u);
  EXPECT_EQ(lines, "");
  ASSERT_EQ(parse_poll_answer("{\"cursor\":2}\n{\"id\":1,\"result\":{}}\n{\"id\":2,\"result\":{}}",
                              &cursor, &lines),
            JsonError::kNone);
  EXPECT_EQ(cursor, 2u);
  EXPECT_EQ(lines, "{\"id\":1,\"result\":{}}\n{\"id\":2,\"result\":{}}");
  ASSERT_EQ(parse_poll_answer("{ \"other\": [1], \"cursor\" : 17 }\n", &cursor, &lines),
            JsonError::kNone);
  EXPECT_EQ(cursor, 17u);
  EXPECT_EQ(lines, "");
}

TEST(HeraldWire, MalformedPollAnswersAreErrors) {
  for (std::string_view body :
       {"", "\n{\"cursor\":1}", "{}", R"({"cursor":-1})", R"({"cursor":"1"})", R"({"cursor":1.5})",
        R"([{"cursor":1}])", "{\"cursor\":1} x\nline", R"({"cursor":1)"}) {
    uint64_t cursor = 0;
    std::string_view lines;
    EXPECT_NE(parse_poll_answer(body, &cursor, &lines), JsonError::kNone) << body;
  }
}

}  // namespace
}  // namespace herald::bench
