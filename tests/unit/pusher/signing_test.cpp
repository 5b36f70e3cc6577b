#include "pusher/signing.h"

#include <gtest/gtest.h>

namespace herald::pusher {
namespace {

// The examples of Pusher's own documentation (channel authorization, REST authentication).
constexpr std::string_view kKey = "278d425bdf160c739803";
constexpr std::string_view kSecret = "7ad3773142a6692b25b8";

TEST(PusherSigning, PrivateChannelExample) {
  std::string msg = channel_auth_message("1234.1234", "private-foobar", "");
  EXPECT_EQ(msg, "1234.1234:private-foobar");
  EXPECT_EQ(hmac_sha256_hex(kSecret, msg),
            "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4");
  EXPECT_TRUE(check_auth(kKey, kSecret, msg,
                         "278d425bdf160c739803:"
                         "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"));
  EXPECT_FALSE(check_auth(kKey, kSecret, msg,
                          "278d425bdf160c739803:"
                          "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a5"));
  EXPECT_FALSE(check_auth(kKey, kSecret, msg, "otherkey:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba"
                                              "48f5369f135bf843651c3a4"));
  EXPECT_FALSE(check_auth(kKey, kSecret, msg, "no colon"));
  EXPECT_FALSE(check_auth(kKey, kSecret, msg, ""));
}

// Checked against Node's crypto.createHmac (what the `pusher` library signs with).
TEST(PusherSigning, PresenceChannel) {
  std::string msg = channel_auth_message("1234.1234", "presence-foobar",
                                         R"({"user_id":10,"user_info":{"name":"Mr. Channel"}})");
  EXPECT_EQ(hmac_sha256_hex(kSecret, msg),
            "fc92c2263fd5b72721e20dd1a06a900e6b3c4fbfac6cb9b098d68eb7911498a2");
}

TEST(PusherSigning, SigninMessage) {
  EXPECT_EQ(signin_message("1.2", R"({"id":"7"})"), R"(1.2::user::{"id":"7"})");
}

SignedRequest example(std::string_view body) {
  SignedRequest r;
  r.method = "POST";
  r.path = "/apps/3/events";
  r.body = body;
  r.query = {{"auth_key", std::string(kKey)},
             {"auth_timestamp", "1353088179"},
             {"auth_version", "1.0"},
             {"body_md5", md5_hex(body)}};
  return r;
}

constexpr std::string_view kBody = R"({"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"})";

TEST(PusherSigning, RestExample) {
  EXPECT_EQ(md5_hex(kBody), "ec365a775a4cd0599faeb73354201b6f");
  SignedRequest r = example(kBody);
  EXPECT_EQ(request_signature(kSecret, r.method, r.path, r.query),
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
  r.query.emplace_back("auth_signature",
                       "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179), RequestAuth::kOk);
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179 + 600), RequestAuth::kOk);
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179 + 601), RequestAuth::kStaleTimestamp);
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179 - 601), RequestAuth::kStaleTimestamp);
  EXPECT_EQ(check_request(r, "otherkey", kSecret, 1353088179), RequestAuth::kUnknownKey);
  EXPECT_EQ(check_request(r, kKey, "other secret", 1353088179), RequestAuth::kBadSignature);
  SignedRequest changed = r;
  changed.body = R"({"name":"bar","channels":["project-3"],"data":"{\"some\":\"data\"}"})";
  EXPECT_EQ(check_request(changed, kKey, kSecret, 1353088179), RequestAuth::kBadBodyMd5);
  SignedRequest get = r;
  get.method = "GET";
  EXPECT_EQ(check_request(get, kKey, kSecret, 1353088179), RequestAuth::kBadSignature);
}

TEST(PusherSigning, RestRefusals) {
  SignedRequest r = example(kBody);
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179), RequestAuth::kMissingParameter);
  r.query.emplace_back("auth_signature", "x");
  r.query[2].second = "2.0";
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179), RequestAuth::kBadVersion);
  r.query[2].second = "1.0";
  r.query[1].second = "13530881x9";
  EXPECT_EQ(check_request(r, kKey, kSecret, 1353088179), RequestAuth::kStaleTimestamp);
  for (RequestAuth a : {RequestAuth::kMissingParameter, RequestAuth::kUnknownKey,
                        RequestAuth::kBadVersion, RequestAuth::kStaleTimestamp,
                        RequestAuth::kBadBodyMd5, RequestAuth::kBadSignature}) {
    EXPECT_FALSE(describe(a).empty());
  }
}

TEST(PusherSigning, ConstantTimeEquality) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "ab"));
  EXPECT_TRUE(equal_constant_time("", ""));
}

}  // namespace
}  // namespace herald::pusher
