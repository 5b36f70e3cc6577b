#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace herald::server {
namespace {

// Writes text to a fresh temporary file and removes it when done.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/herald-config-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Config, ExampleFileIsValidAndMatchesTheDefaults) {
  ServeConfig cfg;
  ASSERT_TRUE(load_config_file(HERALD_EXAMPLE_CONFIG, cfg).ok());
  ServerOptions defaults;
  EXPECT_EQ(cfg.server.listen, defaults.listen);
  EXPECT_EQ(cfg.server.max_message_size, defaults.max_message_size);
  EXPECT_EQ(cfg.server.max_output_bytes, defaults.max_output_bytes);
  EXPECT_EQ(cfg.server.ping_interval_ms, defaults.ping_interval_ms);
  EXPECT_EQ(cfg.server.head_timeout_ms, defaults.head_timeout_ms);
  EXPECT_EQ(cfg.server.drain_timeout_ms, defaults.drain_timeout_ms);
  EXPECT_EQ(cfg.server.deflate_min_size, defaults.deflate_min_size);
  EXPECT_EQ(cfg.server.tls_cert, defaults.tls_cert);
  EXPECT_EQ(cfg.server.tls_key, defaults.tls_key);
  const NamespaceOptions& ns = cfg.server.default_namespace;
  const NamespaceOptions& d = defaults.default_namespace;
  EXPECT_EQ(ns.history_size, d.history_size);
  EXPECT_EQ(ns.history_ttl_s, d.history_ttl_s);
  EXPECT_EQ(ns.durable, d.durable);
  EXPECT_EQ(ns.presence, d.presence);
  EXPECT_EQ(ns.join_leave, d.join_leave);
  EXPECT_EQ(ns.max_subscribers, d.max_subscribers);
  EXPECT_EQ(ns.subscribe, d.subscribe);
  EXPECT_EQ(ns.publish, d.publish);
  EXPECT_EQ(ns.see_presence, d.see_presence);
  EXPECT_EQ(ns.read_history, d.read_history);
  EXPECT_EQ(cfg.server.token_public_key, defaults.token_public_key);
  EXPECT_EQ(cfg.server.token_jwks_file, defaults.token_jwks_file);
  EXPECT_EQ(cfg.server.token_audience, defaults.token_audience);
  EXPECT_EQ(cfg.server.token_issuer, defaults.token_issuer);
  EXPECT_TRUE(cfg.server.namespaces.empty()) << "the example lists namespaces only in comments";
  EXPECT_EQ(cfg.server.broker, defaults.broker);
  EXPECT_EQ(cfg.server.redis_prefix, defaults.redis_prefix);
  EXPECT_TRUE(validate(cfg).ok());
}

// broker, redis_url and redis_prefix: read, checked, printed (a password never is).
TEST(Config, RedisBrokerSettings) {
  TempFile f("broker: redis\nredis_url: \"redis://10.1.2.3:6380/2\"\nredis_prefix: app1\n");
  ServeConfig cfg;
  ASSERT_TRUE(load_config_file(f.path(), cfg).ok());
  EXPECT_EQ(cfg.server.broker, "redis");
  EXPECT_EQ(cfg.server.redis_prefix, "app1");
  EXPECT_TRUE(validate(cfg).ok());
  TempFile again(describe(cfg));
  ServeConfig back;
  ASSERT_TRUE(load_config_file(again.path(), back).ok());
  EXPECT_EQ(back.server.redis_url, "redis://10.1.2.3:6380/2");

  cfg.server.redis_url = "redis://herald:hunter2@10.1.2.3:6380/2";
  std::string text = describe(cfg);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("# redis_url: (set, with a password) redis://10.1.2.3:6380/2"),
            std::string::npos)
      << text;

  ServeConfig bad = cfg;
  bad.server.broker = "etcd";
  EXPECT_FALSE(validate(bad).ok());
  bad = cfg;
  bad.server.redis_url.clear();
  EXPECT_FALSE(validate(bad).ok()) << "redis needs a URL";
  bad = cfg;
  bad.server.redis_url = "http://x";
  EXPECT_FALSE(validate(bad).ok());
  bad = cfg;
  bad.server.redis_prefix = "a{b}";
  EXPECT_FALSE(validate(bad).ok()) << "braces would break the keys' hash tags";
}

TEST(Config, RedisTlsSettings) {
  TempFile f(
      "broker: redis\nredis_url: \"rediss://:pw@10.1.2.3:6380\"\nredis_tls_ca: /etc/ca.pem\n"
      "redis_tls_cert: /etc/c.pem\nredis_tls_key: /etc/k.pem\n");
  ServeConfig cfg;
  ASSERT_TRUE(load_config_file(f.path(), cfg).ok());
  EXPECT_EQ(cfg.server.redis_tls_ca, "/etc/ca.pem");
  EXPECT_EQ(cfg.server.redis_tls_cert, "/etc/c.pem");
  EXPECT_EQ(cfg.server.redis_tls_key, "/etc/k.pem");
  EXPECT_TRUE(validate(cfg).ok()) << validate(cfg).error();
  std::string text = describe(cfg);
  EXPECT_NE(text.find("(set, with a password) rediss://10.1.2.3:6380/0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("redis_tls_ca: \"/etc/ca.pem\""), std::string::npos) << text;

  ServeConfig bad = cfg;
  bad.server.redis_tls_key.clear();
  EXPECT_FALSE(validate(bad).ok()) << "a client certificate needs its key";
  bad = cfg;
  bad.server.redis_url = "redis://10.1.2.3:6380";
  EXPECT_FALSE(validate(bad).ok()) << "TLS settings with no rediss:// URL would be plaintext";
}

TEST(Config, PusherWebhookTlsCa) {
  TempFile f(
      "pusher:\n  webhook_tls_ca: /etc/hooks-ca.pem\n  apps:\n"
      "    - {id: \"1\", key: k, secret: secret-123,\n"
      "       webhooks: [{url: \"https://h.example/x\"}]}\n");
  ServeConfig cfg;
  auto loaded = load_config_file(f.path(), cfg);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(cfg.server.pusher_webhook_tls_ca, "/etc/hooks-ca.pem");
  EXPECT_TRUE(validate(cfg).ok()) << validate(cfg).error();
  std::string text = describe(cfg);
  EXPECT_NE(text.find("pusher:\n  webhook_tls_ca: \"/etc/hooks-ca.pem\"\n  apps:"),
            std::string::npos)
      << text;

  ServeConfig bad = cfg;
  bad.server.pusher_apps[0].webhooks[0].url = "http://h.example/x";
  auto refused = validate(bad);
  ASSERT_FALSE(refused.ok()) << "a CA with only http:// webhooks would look like TLS";
  EXPECT_NE(refused.error().find("pusher.webhook_tls_ca"), std::string::npos) << refused.error();
  TempFile list("pusher:\n  webhook_tls_ca: [a, b]\n");
  ServeConfig other;
  auto wrong = load_config_file(list.path(), other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("pusher.webhook_tls_ca"), std::string::npos) << wrong.error();
}

// Named namespaces inherit what they leave out from default_namespace, whichever comes first in
// the file.
TEST(Config, NamespacesInheritFromTheDefaultNamespace) {
  TempFile f(
      "namespaces:\n"
      "  chat:\n"
      "    max_subscribers: 3\n"
      "  news: {client_publish: false, presence: false}\n"
      "  bare:\n"
      "default_namespace:\n"
      "  history_size: 50\n"
      "  history_ttl: 60\n"
      "  join_leave: false\n");
  ServeConfig cfg;
  auto r = load_config_file(f.path(), cfg);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(cfg.server.default_namespace.history_size, 50u);
  EXPECT_EQ(cfg.server.default_namespace.history_ttl_s, 60u);
  ASSERT_EQ(cfg.server.namespaces.size(), 3u);
  const NamespaceOptions& chat = cfg.server.namespaces.at("chat");
  EXPECT_EQ(chat.max_subscribers, 3u);
  EXPECT_EQ(chat.history_size, 50u) << "inherited";
  EXPECT_FALSE(chat.join_leave) << "inherited";
  const NamespaceOptions& news = cfg.server.namespaces.at("news");
  EXPECT_EQ(news.publish, Access::kNone) << "client_publish: false is publish: none";
  EXPECT_FALSE(news.presence);
  EXPECT_EQ(news.history_ttl_s, 60u);
  EXPECT_EQ(cfg.server.namespaces.at("bare").history_size, 50u);
}

// check-config prints what load_config_file reads back to the same options.
TEST(Config, DescribeReadsBackToTheSameOptions) {
  TempFile f(
      "listen: \"[::1]:9000\"\nthreads: 3\nhead_timeout: 2.5\ndata_dir: \"/var/lib/he\\\"rald\"\n"
      "default_namespace: {history_size: 7, join_leave: false}\n"
      "namespaces:\n  chat: {max_subscribers: 9, history_ttl: 30}\n  news: {client_publish: false}\n"
      "  private: {subscribe: token, publish: subscribers, see_presence: authenticated, "
      "read_history: none}\n"
      "token_hmac_secret: \"0123456789abcdef0123456789abcdef\"\n"
      "token_public_key: /etc/herald/keys.pem\ntoken_jwks_file: /etc/herald/jwks.json\n"
      "token_audience: herald\ntoken_issuer: \"https://auth.example.com\"\n"
      "tls_cert: /etc/herald/chain.pem\ntls_key: /etc/herald/key.pem\n");
  ServeConfig first;
  ASSERT_TRUE(load_config_file(f.path(), first).ok());
  std::string text = describe(first);
  EXPECT_EQ(text.find("0123456789abcdef"), std::string::npos) << "no secret in the output";
  TempFile again(text);
  ServeConfig second;
  auto r = load_config_file(again.path(), second);
  ASSERT_TRUE(r.ok()) << r.error() << "\n" << text;
  EXPECT_TRUE(second.server.token_hmac_secret.empty()) << "secrets are not read back";
  second.server.token_hmac_secret = first.server.token_hmac_secret;
  EXPECT_EQ(describe(second), text);
  EXPECT_EQ(second.server.listen, "[::1]:9000");
  EXPECT_EQ(second.server.data_dir, "/var/lib/he\"rald");
  EXPECT_EQ(second.server.head_timeout_ms, 2500u);
  EXPECT_EQ(second.server.namespaces.at("chat").max_subscribers, 9u);
  EXPECT_EQ(second.server.namespaces.at("chat").history_size, 7u) << "inherited, then printed";
  EXPECT_EQ(second.server.namespaces.at("news").publish, Access::kNone);
  const NamespaceOptions& priv = second.server.namespaces.at("private");
  EXPECT_EQ(priv.subscribe, Access::kToken);
  EXPECT_EQ(priv.publish, Access::kSubscribers);
  EXPECT_EQ(priv.see_presence, Access::kAuthenticated);
  EXPECT_EQ(priv.read_history, Access::kNone);
  EXPECT_EQ(second.server.token_public_key, "/etc/herald/keys.pem");
  EXPECT_EQ(second.server.token_jwks_file, "/etc/herald/jwks.json");
  EXPECT_EQ(second.server.token_audience, "herald");
  EXPECT_EQ(second.server.token_issuer, "https://auth.example.com");
  EXPECT_EQ(second.server.tls_cert, "/etc/herald/chain.pem");
  EXPECT_EQ(second.server.tls_key, "/etc/herald/key.pem");
}

TEST(Config, BadNamespacesAreRefusedWithTheirLine) {
  struct Case {
    const char* yaml;
    const char* says;
    const char* line;
  };
  const Case cases[] = {
      {"namespaces:\n  chat:\n    colour: red\n", "unknown key 'colour'", ":3:"},
      {"namespaces:\n  chat:\n    presence: maybe\n", "'presence'", ":3:"},
      {"namespaces:\n  \"a b\":\n    presence: true\n", "namespace name", ":2:"},
      {"namespaces:\n  chat: 3\n", "must be a mapping", ":2:"},
      {"namespaces: [chat]\n", "'namespaces' must map", ":1:"},
      {"default_namespace:\n  history_size: -1\n", "'history_size'", ":2:"},
      {"default_namespace:\n  history_ttl: -5\n", "'history_ttl'", ":2:"},
      // Permissions: each key takes only the values that mean something for it.
      {"namespaces:\n  a:\n    subscribe: subscribers\n", "anyone | authenticated | token",
       ":3:"},
      {"namespaces:\n  a:\n    subscribe: none\n", "'subscribe'", ":3:"},
      {"namespaces:\n  a:\n    publish: token\n", "anyone | authenticated | subscribers | none",
       ":3:"},
      {"namespaces:\n  a:\n    see_presence: everyone\n", "'see_presence'", ":3:"},
      {"namespaces:\n  a:\n    read_history: [anyone]\n", "'read_history'", ":3:"},
      {"namespaces:\n  a:\n    client_publish: true\n    publish: none\n",
       "'client_publish' and 'publish'", ":3:"},
  };
  for (const Case& c : cases) {
    TempFile f(c.yaml);
    ServeConfig cfg;
    auto r = load_config_file(f.path(), cfg);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.error().find(c.says), std::string::npos) << r.error();
    EXPECT_NE(r.error().find(c.line), std::string::npos) << "names the line: " << r.error();
  }
}

// Configurations written before `publish` existed keep their meaning.
TEST(Config, ClientPublishMapsToPublish) {
  TempFile f(
      "default_namespace: {client_publish: false}\n"
      "namespaces:\n  chat: {client_publish: true}\n  news:\n  feed: {publish: authenticated}\n");
  ServeConfig cfg;
  auto r = load_config_file(f.path(), cfg);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(cfg.server.default_namespace.publish, Access::kNone);
  EXPECT_EQ(cfg.server.namespaces.at("chat").publish, Access::kAnyone);
  EXPECT_EQ(cfg.server.namespaces.at("news").publish, Access::kNone) << "inherited";
  EXPECT_EQ(cfg.server.namespaces.at("feed").publish, Access::kAuthenticated);
}

TEST(Config, AllowAnonymousFalseNeedsSomeTokenKey) {
  for (const char* key : {"token_hmac_secret: \"0123456789abcdef0123456789abcdef\"\n",
                          "token_public_key: /etc/herald/keys.pem\n",
                          "token_jwks_file: /etc/herald/jwks.json\n"}) {
    TempFile f(std::string("allow_anonymous: false\n") + key);
    ServeConfig cfg;
    ASSERT_TRUE(load_config_file(f.path(), cfg).ok());
    EXPECT_TRUE(validate(cfg).ok()) << key;
  }
  TempFile f("allow_anonymous: false\n");
  ServeConfig cfg;
  ASSERT_TRUE(load_config_file(f.path(), cfg).ok());
  auto r = validate(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nobody could connect"), std::string::npos) << r.error();
}

TEST(Config, ValuesAreApplied) {
  TempFile f("listen: \"[::1]:9000\"\nthreads: 3\necho: true\nhead_timeout: 2.5\n"
             "max_message_size: 4096\n");
  ServeConfig cfg;
  ASSERT_TRUE(load_config_file(f.path(), cfg).ok());
  EXPECT_EQ(cfg.server.listen, "[::1]:9000");
  EXPECT_EQ(cfg.server.threads, 3);
  EXPECT_TRUE(cfg.echo);
  EXPECT_EQ(cfg.server.head_timeout_ms, 2500u);
  EXPECT_EQ(cfg.server.max_message_size, 4096u);
}

TEST(Config, EmptyFileMeansDefaults) {
  TempFile f("");
  ServeConfig cfg;
  EXPECT_TRUE(load_config_file(f.path(), cfg).ok());
}

TEST(Config, ErrorsNameTheProblem) {
  struct Case {
    const char* text;
    const char* expect_in_error;
  } cases[] = {
      {"lisen: 127.0.0.1:1\n", "unknown key 'lisen'"},
      {"threads: many\n", "threads"},
      {"head_timeout: -1\n", "duration"},
      {"max_message_size: 0\n", "positive"},
      {"- a\n- b\n", "mapping"},
      {"listen: [unclosed\n", ""},
  };
  for (const Case& c : cases) {
    TempFile f(c.text);
    ServeConfig cfg;
    auto r = load_config_file(f.path(), cfg);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(f.path()), std::string::npos) << r.error();
    EXPECT_NE(r.error().find(c.expect_in_error), std::string::npos) << r.error();
  }
}

TEST(Config, MissingFileIsAnError) {
  ServeConfig cfg;
  EXPECT_FALSE(load_config_file("/nonexistent/herald.yaml", cfg).ok());
}

TEST(Config, ValidateRejectsImpossibleCombinations) {
  ServeConfig cfg;
  cfg.server.max_output_bytes = 1000;
  cfg.server.max_message_size = 2000;
  EXPECT_FALSE(validate(cfg).ok());
  ServeConfig zero_ping;
  zero_ping.server.ping_interval_ms = 0;
  EXPECT_FALSE(validate(zero_ping).ok());
  ServeConfig threads;
  threads.server.threads = -2;
  EXPECT_FALSE(validate(threads).ok());
  ServeConfig cert_only;
  cert_only.server.tls_cert = "/etc/herald/chain.pem";
  auto r = validate(cert_only);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("tls_cert and tls_key go together"), std::string::npos) << r.error();
  ServeConfig key_only;
  key_only.server.tls_key = "/etc/herald/key.pem";
  EXPECT_FALSE(validate(key_only).ok());
}

}  // namespace
}  // namespace herald::server
