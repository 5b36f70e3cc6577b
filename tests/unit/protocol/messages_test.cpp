#include "protocol/messages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace herald::protocol {
namespace {

using testing::is_valid_json;

TEST(Messages, RepliesAndErrors) {
  std::string out;
  append_reply(out, 7, "{}");
  EXPECT_EQ(out, R"({"id":7,"result":{}})");
  out.clear();
  append_error(out, 0, ErrorCode::kBadRequest);
  EXPECT_EQ(out, R"({"id":0,"error":{"code":100,"message":"bad request","temporary":false}})");
  out.clear();
  append_error(out, 4294967295u, ErrorCode::kOverloaded, "overloaded: \"queue\"\n");
  EXPECT_EQ(out, R"({"id":4294967295,"error":{"code":503,"message":"overloaded: \"queue\"\n",)"
                 R"("temporary":true}})");
  EXPECT_TRUE(is_valid_json(out));
}

TEST(Messages, EveryErrorCodeEncodesAsValidJson) {
  for (ErrorCode c : kAllErrorCodes) {
    std::string out;
    append_error(out, 3, c);
    EXPECT_TRUE(is_valid_json(out)) << out;
    EXPECT_NE(out.find(std::string("\"code\":") + std::to_string(code_value(c))),
              std::string::npos);
    out.clear();
    append_api_error(out, c, "detail \x01\xFF");
    EXPECT_TRUE(is_valid_json(out)) << out;
  }
}

TEST(Messages, Publications) {
  ClientInfoView info{"42", "c1", R"({"name":"Ann"})"};
  PublicationView p{5, "ep", R"({"text":"hi"})", &info, 1764000000000};
  std::string out;
  append_publication(out, p);
  EXPECT_EQ(out,
            R"({"offset":5,"epoch":"ep","data":{"text":"hi"},)"
            R"("info":{"user":"42","client":"c1","info":{"name":"Ann"}},"time":1764000000000})");
  out.clear();
  PublicationView bare{1, "ep", "null"};
  append_publication(out, bare);
  EXPECT_EQ(out, R"({"offset":1,"epoch":"ep","data":null})");
  out.clear();
  append_message_push(out, "chat:r1", p);
  EXPECT_EQ(out,
            R"({"push":"message","channel":"chat:r1","offset":5,"epoch":"ep","data":{"text":"hi"},)"
            R"("info":{"user":"42","client":"c1","info":{"name":"Ann"}},"time":1764000000000})");
  EXPECT_TRUE(is_valid_json(out));
}

TEST(Messages, Results) {
  std::string out;
  append_connect_result(out, "cid", "0.1.0", 25, true);
  EXPECT_EQ(out, R"({"client":"cid","version":"0.1.0","protocol":1,"ping":25,"pong":true})");
  out.clear();
  append_connect_result(out, "cid", "0.1.0", 25, true, "0-ab", 3600);
  EXPECT_EQ(out, R"({"client":"cid","version":"0.1.0","protocol":1,"ping":25,"pong":true,)"
                 R"("ttl":3600,"session":"0-ab"})");
  out.clear();
  append_refresh_result(out, 59);
  EXPECT_EQ(out, R"({"ttl":59})");
  out.clear();
  append_refresh_result(out, 0);
  EXPECT_EQ(out, "{}");
  out.clear();
  std::vector<PublicationView> pubs = {{6, "e", "1"}, {7, "e", "\"x\""}};
  append_subscribe_result(out, "e", 7, true, true, pubs);
  EXPECT_EQ(out, R"({"epoch":"e","offset":7,"recoverable":true,"recovered":true,"publications":[)"
                 R"({"offset":6,"epoch":"e","data":1},{"offset":7,"epoch":"e","data":"x"}]})");
  out.clear();
  append_subscribe_result(out, "e", 0, false, false, {});
  EXPECT_EQ(out,
            R"({"epoch":"e","offset":0,"recoverable":false,"recovered":false,"publications":[]})");
  out.clear();
  append_publish_result(out, 8, "e");
  EXPECT_EQ(out, R"({"offset":8,"epoch":"e"})");
  out.clear();
  append_history_result(out, pubs, 7, "e");
  EXPECT_EQ(out, R"({"publications":[{"offset":6,"epoch":"e","data":1},)"
                 R"({"offset":7,"epoch":"e","data":"x"}],"offset":7,"epoch":"e"})");
  out.clear();
  std::vector<ClientInfoView> clients = {{"", "a", ""}, {"7", "b", "[1]"}};
  append_presence_result(out, clients);
  EXPECT_EQ(
      out,
      R"({"clients":{"a":{"user":"","client":"a"},"b":{"user":"7","client":"b","info":[1]}}})");
  out.clear();
  append_presence_result(out, {});
  EXPECT_EQ(out, R"({"clients":{}})");
  out.clear();
  append_presence_stats_result(out, 3, 2);
  EXPECT_EQ(out, R"({"num_clients":3,"num_users":2})");
}

TEST(Messages, Pushes) {
  ClientInfoView info{"u\"1", "c", ""};
  std::string out;
  append_join_push(out, "ch", info);
  EXPECT_EQ(out, R"({"push":"join","channel":"ch","info":{"user":"u\"1","client":"c"}})");
  out.clear();
  append_leave_push(out, "ch", info);
  EXPECT_EQ(out, R"({"push":"leave","channel":"ch","info":{"user":"u\"1","client":"c"}})");
  out.clear();
  append_unsubscribe_push(out, "ch", UnsubscribeCode::kServerUnsubscribe);
  EXPECT_EQ(out,
            R"({"push":"unsubscribe","channel":"ch","code":2500,"reason":"server unsubscribe"})");
  out.clear();
  append_disconnect_push(out, DisconnectCode::kForceDisconnect);
  EXPECT_EQ(out,
            R"({"push":"disconnect","code":4503,"reason":"force disconnect","reconnect":false})");
  out.clear();
  append_disconnect_push(out, DisconnectCode::kSlow, "slow: \"q\"");
  EXPECT_EQ(out, R"({"push":"disconnect","code":4002,"reason":"slow: \"q\"","reconnect":true})");
  for (DisconnectCode c : kAllDisconnectCodes) {
    out.clear();
    append_disconnect_push(out, c);
    EXPECT_TRUE(is_valid_json(out));
  }
  for (UnsubscribeCode c : kAllUnsubscribeCodes) {
    out.clear();
    append_unsubscribe_push(out, "x", c);
    EXPECT_TRUE(is_valid_json(out));
  }
}

TEST(Messages, ApiBodies) {
  std::string out;
  append_api_result(out, R"({"offset":1,"epoch":"e"})");
  EXPECT_EQ(out, R"({"result":{"offset":1,"epoch":"e"}})");
  out.clear();
  append_api_error(out, ErrorCode::kUnauthorized);
  EXPECT_EQ(out, R"({"error":{"code":120,"message":"unauthorized","temporary":false}})");
}

TEST(Messages, AppendsWithoutNewlineSoFramesJoinWithOne) {
  std::string frame;
  append_reply(frame, 1, "{}");
  frame.push_back('\n');
  append_disconnect_push(frame, DisconnectCode::kGoingAway);
  EXPECT_EQ(frame.find('\n'), frame.rfind('\n'));
  EXPECT_TRUE(is_valid_json(frame.substr(0, frame.find('\n'))));
  EXPECT_TRUE(is_valid_json(frame.substr(frame.find('\n') + 1)));
}

}  // namespace
}  // namespace herald::protocol
