#include "broker/redis_url.h"

#include <gtest/gtest.h>

namespace herald::broker {
namespace {

TEST(RedisUrl, HostPortDbUserAndPassword) {
  auto plain = parse_redis_url("redis://10.0.0.5:6380");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "10.0.0.5");
  EXPECT_EQ(plain->port, 6380);
  EXPECT_EQ(plain->db, 0);
  EXPECT_TRUE(plain->password.empty());

  auto full = parse_redis_url("redis://herald:s%40cret@redis.internal:7000/3");
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_EQ(full->user, "herald");
  EXPECT_EQ(full->password, "s@cret");
  EXPECT_EQ(full->host, "redis.internal");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(full->db, 3);

  EXPECT_FALSE(full->tls);
  auto tls = parse_redis_url("rediss://herald:pw@redis.internal:6380/2");
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "redis.internal");
  EXPECT_EQ(tls->port, 6380);
  EXPECT_EQ(tls->password, "pw");
  EXPECT_EQ(tls->db, 2);

  auto pass_only = parse_redis_url("redis://:pw@localhost/");
  ASSERT_TRUE(pass_only.ok());
  EXPECT_TRUE(pass_only->user.empty());
  EXPECT_EQ(pass_only->password, "pw");
  EXPECT_EQ(pass_only->port, 6379) << "the default port";

  auto v6 = parse_redis_url("redis://[::1]:6390");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->address(), "[::1]:6390");
  EXPECT_EQ(full->address(), "redis.internal:7000") << "never the password";
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"http://x:1", "redisss://x:1", "redis://", "rediss://", "redis://h:0", "redis://h:70000",
        "redis://h:12ab", "redis://h/x", "redis://u:%zz@h", "redis://[::1"}) {
    EXPECT_FALSE(parse_redis_url(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace herald::broker
