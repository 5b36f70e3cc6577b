#include "server/static_files.h"

#include <gtest/gtest.h>

#include <string>

namespace herald::server {
namespace {

const unsigned char kPage[] = "<!doctype html><title>t</title>";
const unsigned char kScript[] = "export const x = 1;\n";

const EmbeddedFile kTable[] = {
    {"/sdk/herald.js", "text/javascript; charset=utf-8", "\"bbbb\"", kScript, sizeof(kScript) - 1},
    {"/", "text/html; charset=utf-8", "\"aaaa\"", kPage, sizeof(kPage) - 1},
};

http::Request make(http::Method method, std::string_view path, std::string_view inm = {}) {
  http::Request req;
  req.method = method;
  req.path = path;
  if (!inm.empty()) {
    req.headers[0] = {"If-None-Match", inm};
    req.header_count = 1;
  }
  return req;
}

TEST(StaticFiles, FindsByExactPathOnly) {
  StaticFiles files(kTable);
  ASSERT_NE(files.find("/"), nullptr);
  EXPECT_EQ(files.find("/")->body, std::string_view("<!doctype html><title>t</title>"));
  ASSERT_NE(files.find("/sdk/herald.js"), nullptr);
  EXPECT_EQ(files.find("/sdk/herald.js")->content_type, "text/javascript; charset=utf-8");
  for (std::string_view path : {"", "/index.html", "/sdk", "/sdk/", "/sdk/herald.js/",
                                "/sdk/../sdk/herald.js", "//", "/SDK/herald.js"}) {
    EXPECT_EQ(files.find(path), nullptr) << path;
  }
}

TEST(StaticFiles, EmbeddedTableHasThePagesAndTheSdk) {
  StaticFiles files;
  for (std::string_view path :
       {"/", "/dashboard", "/assets/style.css", "/assets/chat.js", "/assets/dashboard.js",
        "/assets/charts.js", "/sdk/herald.js", "/sdk/client.js"}) {
    const StaticFiles::File* f = files.find(path);
    ASSERT_NE(f, nullptr) << path;
    EXPECT_FALSE(f->body.empty()) << path;
    EXPECT_EQ(f->etag.size(), 22u) << path << ": a quoted 20-digit hash";
  }
  EXPECT_EQ(files.find("/sdk/index.js"), nullptr) << "served as /sdk/herald.js";
}

TEST(StaticFiles, HeadersSayEtagCachingAndCspForPagesOnly) {
  StaticFiles files(kTable);
  const std::string& page = files.find("/")->headers;
  EXPECT_NE(page.find("ETag: \"aaaa\"\r\n"), std::string::npos);
  EXPECT_NE(page.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
  const std::string& script = files.find("/sdk/herald.js")->headers;
  EXPECT_NE(script.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos);
  EXPECT_EQ(script.find("Content-Security-Policy"), std::string::npos);
}

TEST(StaticFiles, DecideAnswers) {
  StaticFiles files(kTable);
  struct Case {
    http::Method method;
    std::string_view path;
    std::string_view inm;
    int status;
    bool body;
  };
  const Case cases[] = {
      {http::Method::kGet, "/", {}, 200, true},
      {http::Method::kHead, "/", {}, 200, false},
      {http::Method::kGet, "/", "\"aaaa\"", 304, false},
      {http::Method::kHead, "/", "\"aaaa\"", 304, false},
      {http::Method::kGet, "/", "\"bbbb\"", 200, true},
      {http::Method::kGet, "/", "W/\"aaaa\"", 304, false},
      {http::Method::kGet, "/", "\"x\", \"aaaa\"", 304, false},
      {http::Method::kGet, "/", "*", 304, false},
      {http::Method::kPost, "/", {}, 405, false},
      {http::Method::kDelete, "/sdk/herald.js", {}, 405, false},
      {http::Method::kGet, "/nope", {}, 404, false},
      {http::Method::kPost, "/nope", {}, 404, false},
  };
  for (const Case& c : cases) {
    StaticFiles::Answer a = files.decide(make(c.method, c.path, c.inm));
    EXPECT_EQ(a.status, c.status) << c.path << " If-None-Match: " << c.inm;
    EXPECT_EQ(a.send_body, c.body) << c.path << " If-None-Match: " << c.inm;
    EXPECT_EQ(a.file != nullptr, c.status != 404) << c.path;
  }
}

TEST(EtagMatches, ListsWeakTagsAndStar) {
  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("\"b\",\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches(" \"b\" ,\t\"a\" ", "\"a\""));
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
  EXPECT_FALSE(etag_matches("a", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
  EXPECT_FALSE(etag_matches(",,", "\"a\""));
  EXPECT_FALSE(etag_matches("\"b\", **", "\"a\""));
}

}  // namespace
}  // namespace herald::server
