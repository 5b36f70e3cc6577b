#include "auth/base64url.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace herald::auth {
namespace {

// Decodes into a buffer of exactly base64url_decoded_max() bytes (ASan catches overruns).
bool decode(std::string_view in, std::string& out) {
  std::vector<char> buf(base64url_decoded_max(in.size()));
  size_t size = 0;
  if (!base64url_decode(in, buf.data(), size)) {
    return false;
  }
  EXPECT_LE(size, buf.size());
  out.assign(buf.data(), size);
  return true;
}

std::string encode(std::string_view in) {
  std::string out;
  append_base64url(out, in);
  return out;
}

struct Vector {
  std::string_view bytes;
  std::string_view encoded;
};

// RFC 4648 section 10, without the padding, plus the two characters base64url changes.
constexpr Vector kVectors[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
    {"\xfb\xff", "-_8"},
    {"\xff\xff\xff", "____"},
    {"\x00\x00\x00", "AAAA"},
    {R"({"alg":"HS256","typ":"JWT"})", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"},
};

TEST(Base64Url, Rfc4648Vectors) {
  for (const Vector& v : kVectors) {
    std::string bytes(v.bytes.data(), v.bytes.size());
    if (v.encoded == "AAAA") {
      bytes.assign(3, '\0');  // string_view literal stops at the first NUL
    }
    SCOPED_TRACE(v.encoded);
    EXPECT_EQ(encode(bytes), v.encoded);
    std::string decoded;
    ASSERT_TRUE(decode(v.encoded, decoded));
    EXPECT_EQ(decoded, bytes);
  }
}

TEST(Base64Url, AppendKeepsWhatIsThere) {
  std::string out = "x.";
  append_base64url(out, "foo");
  EXPECT_EQ(out, "x.Zm9v");
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string bytes = all.substr(all.size() - n);
    std::string decoded;
    ASSERT_TRUE(decode(encode(bytes), decoded)) << n;
    EXPECT_EQ(decoded, bytes);
    EXPECT_EQ(encode(bytes).size(), (n * 4 + 2) / 3);
  }
}

TEST(Base64Url, RoundTripsRandomBytes) {
  std::mt19937 rng(7515);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) {
      c = static_cast<char>(rng());
    }
    std::string decoded;
    ASSERT_TRUE(decode(encode(bytes), decoded));
    EXPECT_EQ(decoded, bytes);
  }
}

TEST(Base64Url, RejectsNonCanonicalInput) {
  const char* kBad[] = {
      "Z",           // one leftover character: 6 bits are no byte
      "Zm9vY",       // same after a whole group
      "Zg==",        // padding
      "Zg=",         // padding
      "Zm8=",        // padding
      "Zh",          // unused low bits set (canonical: "Zg")
      "Zm9",         // unused low bits set (canonical: "Zm8")
      "Zm+v",        // base64, not base64url
      "Zm/v",        // base64, not base64url
      " Zm9v",       // whitespace
      "Zm9v\n",      // whitespace
      "Zm 9v",       // whitespace
      "Zm9v.",       // separator
      "Zm\xc3\xa9",  // non-ASCII
  };
  for (const char* bad : kBad) {
    std::string out;
    EXPECT_FALSE(decode(bad, out)) << bad;
  }
  std::string out;
  EXPECT_FALSE(decode(std::string_view("Zm\0v", 4), out));
}

TEST(Base64Url, EveryByteOutsideTheAlphabetIsRejectedAtEveryPosition) {
  const std::string good = "Zm9vYmFy";
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (alphabet) {
      continue;
    }
    for (size_t pos = 0; pos < good.size(); ++pos) {
      std::string bad = good;
      bad[pos] = c;
      std::string out;
      EXPECT_FALSE(decode(bad, out)) << b << " at " << pos;
    }
  }
}

// The decoder is not incremental; the byte-at-a-time rule becomes: every prefix of an encoding
// is either refused or decodes to a prefix of the bytes, never to anything else.
TEST(Base64Url, EveryPrefixDecodesToAPrefixOrIsRefused) {
  const std::string bytes = "Herald \x01\x02\xfe\xff tokens";
  const std::string encoded = encode(bytes);
  for (size_t n = 0; n <= encoded.size(); ++n) {
    std::string out;
    bool ok = decode(encoded.substr(0, n), out);
    if (n % 4 == 0) {
      EXPECT_TRUE(ok) << n;  // whole groups have no unused bits
    }
    if (n % 4 == 1) {
      EXPECT_FALSE(ok) << n;
    }
    if (ok) {
      EXPECT_EQ(out, bytes.substr(0, out.size()));
      EXPECT_EQ(out.size(), n * 3 / 4);
    }
  }
}

}  // namespace
}  // namespace herald::auth
