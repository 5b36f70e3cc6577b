#include "ws/deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "test_util.h"

namespace herald::ws {
namespace {

using testing::bytes;

struct NegotiationCase {
  const char* offers;
  const char* response;  // nullptr: declined
};

TEST(Negotiate, Table) {
  const NegotiationCase cases[] = {
      {"permessage-deflate", "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; client_max_window_bits=10",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=8",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=8"},
      {"permessage-deflate; server_max_window_bits=15",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=15"},
      {"permessage-deflate; client_no_context_takeover",
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
      {"permessage-deflate; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover"},
      // Autobahn 13.5's offer.
      {"permessage-deflate; client_no_context_takeover; client_max_window_bits; "
       "server_max_window_bits=8; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=8"},
      // Bad values and duplicates decline that offer.
      {"permessage-deflate; server_max_window_bits", nullptr},
      {"permessage-deflate; server_max_window_bits=7", nullptr},
      {"permessage-deflate; server_max_window_bits=16", nullptr},
      {"permessage-deflate; server_max_window_bits=08", nullptr},
      {"permessage-deflate; server_max_window_bits=+9", nullptr},
      {"permessage-deflate; server_max_window_bits=abc", nullptr},
      {"permessage-deflate; client_max_window_bits=16", nullptr},
      {"permessage-deflate; client_max_window_bits=0", nullptr},
      {"permessage-deflate; server_no_context_takeover=1", nullptr},
      {"permessage-deflate; client_no_context_takeover=true", nullptr},
      {"permessage-deflate; client_no_context_takeover; client_no_context_takeover", nullptr},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", nullptr},
      {"permessage-deflate; server_max_window_bits=9; server_max_window_bits=9", nullptr},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits=9", nullptr},
      {"permessage-deflate; foo", nullptr},
      {"permessage-deflate; foo=bar", nullptr},
      {"x-webkit-deflate-frame", nullptr},
      {"", nullptr},
      // Several offers: the first acceptable one wins.
      {"permessage-deflate; foo, permessage-deflate; client_max_window_bits=9",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
      {"x-webkit-deflate-frame, permessage-deflate",
       "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; server_max_window_bits=10, permessage-deflate",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
      {"foo; a=\"b,c\"; d, permessage-deflate", "permessage-deflate; server_no_context_takeover"},
      // Quoted values are unquoted, then must be tokens.
      {"permessage-deflate; client_max_window_bits=\"10\"",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
      {"permessage-deflate; server_max_window_bits=\"1\\0\"",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
      {"permessage-deflate; client_max_window_bits=\"1 0\"", nullptr},
      {"permessage-deflate; client_max_window_bits=\"\"", nullptr},
      // Case, whitespace and empty list elements are tolerated.
      {"PerMessage-Deflate; Client_Max_Window_Bits=12",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"},
      {" , ,permessage-deflate ;\tclient_max_window_bits = 11 ,, ",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=11"},
      // Broken syntax declines everything, even a good offer before it.
      {"permessage-deflate;", nullptr},
      {"permessage-deflate; =10", nullptr},
      {"permessage-deflate; client_max_window_bits=", nullptr},
      {"permessage-deflate; client_max_window_bits=\"10", nullptr},
      {"permessage-deflate; client_max_window_bits=\"10\\", nullptr},
      {"permessage deflate", nullptr},
      {"permessage-deflate, ;x", nullptr},
      {"permessage-deflate, @", nullptr},
      {"permessage-deflate; a=b=c", nullptr},
  };
  for (const NegotiationCase& c : cases) {
    std::string response = "untouched";
    auto params = negotiate_permessage_deflate(c.offers, DeflateConfig{}, response);
    if (c.response == nullptr) {
      EXPECT_FALSE(params.has_value()) << c.offers << " -> " << response;
    } else {
      ASSERT_TRUE(params.has_value()) << c.offers;
      EXPECT_EQ(response, c.response) << c.offers;
      EXPECT_TRUE(params->server_no_context_takeover);
    }
  }
}

TEST(Negotiate, ParamsFollowOfferAndConfig) {
  std::string response;
  DeflateConfig config;
  auto p = negotiate_permessage_deflate(
      "permessage-deflate; client_no_context_takeover; server_max_window_bits=9", config, response);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->client_no_context_takeover);
  EXPECT_EQ(p->server_max_window_bits, 9);
  EXPECT_EQ(p->client_max_window_bits, 15);

  config.server_max_window_bits = 10;
  config.client_max_window_bits = 12;
  p = negotiate_permessage_deflate(
      "permessage-deflate; server_max_window_bits=13; "
      "client_max_window_bits",
      config, response);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 10);
  EXPECT_EQ(p->client_max_window_bits, 12);
  EXPECT_EQ(response,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=12");

  // Without client_max_window_bits in the offer we may not ask the client for a smaller one.
  p = negotiate_permessage_deflate("permessage-deflate", config, response);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->server_max_window_bits, 10);  // we just use a smaller window, unannounced
  EXPECT_EQ(p->client_max_window_bits, 15);
  EXPECT_EQ(response, "permessage-deflate; server_no_context_takeover");

  config.enabled = false;
  EXPECT_FALSE(negotiate_permessage_deflate("permessage-deflate", config, response));
}

std::string inflate_all(Inflater& inf, std::string_view in, Inflater::Status expect) {
  std::string out = "prefix:";
  EXPECT_EQ(inf.inflate_message(in, out), expect);
  return out.substr(7);
}

const std::string kHelloCompressed = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});

TEST(Inflater, Rfc7692Examples) {
  DeflateParams takeover;
  Inflater inf(takeover, 1 << 20);
  ASSERT_TRUE(inf.ok());
  // 7.2.3.1 and 7.2.3.2: the second "Hello" refers back into the first message.
  EXPECT_EQ(inflate_all(inf, kHelloCompressed, Inflater::Status::kOk), "Hello");
  EXPECT_EQ(inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), Inflater::Status::kOk),
            "Hello");
  // 7.2.3.3: a stored (uncompressed) block.
  EXPECT_EQ(inflate_all(inf, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o', 0x00}),
                        Inflater::Status::kOk),
            "Hello");
  // 7.2.3.5: two DEFLATE blocks in one message.
  EXPECT_EQ(inflate_all(inf,
                        bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9,
                               0x07, 0x00}),
                        Inflater::Status::kOk),
            "Hello");
  // 7.2.3.6: an empty message.
  EXPECT_EQ(inflate_all(inf, bytes({0x00}), Inflater::Status::kOk), "");
  EXPECT_EQ(inflate_all(inf, "", Inflater::Status::kOk), "");
  EXPECT_EQ(inflate_all(inf, kHelloCompressed, Inflater::Status::kOk), "Hello");
}

TEST(Inflater, FinalBlockKeepsWindowForTakeover) {
  Inflater inf(DeflateParams{}, 1 << 20);
  // 7.2.3.4: BFINAL set; the next message may still refer back to "Hello".
  EXPECT_EQ(inflate_all(inf, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}),
                        Inflater::Status::kOk),
            "Hello");
  EXPECT_EQ(inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), Inflater::Status::kOk),
            "Hello");
  // Bytes after the final block belong to no stream and are ignored (7.2.3.4 has one).
  EXPECT_EQ(inflate_all(inf, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x01, 0x02}),
                        Inflater::Status::kOk),
            "Hello");
  EXPECT_EQ(inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), Inflater::Status::kOk),
            "Hello");
}

TEST(Inflater, NoContextTakeoverResetsWindow) {
  DeflateParams p;
  p.client_no_context_takeover = true;
  Inflater inf(p, 1 << 20);
  EXPECT_EQ(inflate_all(inf, kHelloCompressed, Inflater::Status::kOk), "Hello");
  // The shared-window message is now a reference into nothing.
  inflate_all(inf, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), Inflater::Status::kCorrupt);
  EXPECT_EQ(inflate_all(inf, kHelloCompressed, Inflater::Status::kOk), "Hello");
}

TEST(Inflater, Corrupt) {
  Inflater inf(DeflateParams{}, 1 << 20);
  inflate_all(inf, bytes({0xff, 0xff, 0xff, 0xff}), Inflater::Status::kCorrupt);
  inflate_all(inf, bytes({0x07}), Inflater::Status::kCorrupt);  // reserved block type 3
  EXPECT_EQ(inflate_all(inf, kHelloCompressed, Inflater::Status::kOk), "Hello");
}

std::string raw_deflate(std::string_view in, int bits, int level) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, level, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&s, in.size()) + 16, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - s.avail_out - 4);  // strip 00 00 ff ff as RFC 7692 7.2.1 says
  deflateEnd(&s);
  return out;
}

TEST(Inflater, ZipBombIsCapped) {
  const std::string zeros(32 * 1024 * 1024, '\0');
  const std::string bomb = raw_deflate(zeros, 15, 9);
  ASSERT_LT(bomb.size(), 64u * 1024);
  Inflater inf(DeflateParams{}, 1024 * 1024);
  std::string out;
  EXPECT_EQ(inf.inflate_message(bomb, out), Inflater::Status::kTooBig);
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), 2u * 1024 * 1024);  // never grew far past the cap

  // Exactly at the cap is fine; one byte more is not.
  Inflater exact(DeflateParams{}, 1000);
  out.clear();
  EXPECT_EQ(exact.inflate_message(raw_deflate(std::string(1000, 'a'), 15, 6), out),
            Inflater::Status::kOk);
  EXPECT_EQ(out, std::string(1000, 'a'));
  out.clear();
  EXPECT_EQ(exact.inflate_message(raw_deflate(std::string(1001, 'a'), 15, 6), out),
            Inflater::Status::kTooBig);
}

std::string sample_text(size_t n, uint32_t seed) {
  static const char* words[] = {"herald ",   "channel ",      "message ",   "{\"id\":", "42, ",
                                "presence ", "\xE2\x82\xAC ", "subscribe ", "\n"};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 9];
    if (rng() % 7 == 0) {
      s.push_back(static_cast<char>('a' + rng() % 26));
    }
  }
  return s;
}

std::string raw_inflate(std::string_view in, int bits) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, -bits), Z_OK);
  std::string data(in);
  data += bytes({0x00, 0x00, 0xff, 0xff});
  std::string out(8 * 1024 * 1024, '\0');
  s.next_in = reinterpret_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&s, Z_SYNC_FLUSH);
  EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc << " " << (s.msg ? s.msg : "");
  out.resize(out.size() - s.avail_out);
  inflateEnd(&s);
  return out;
}

TEST(Deflater, Rfc7692HelloAndEmpty) {
  Deflater d(15, 6);
  ASSERT_TRUE(d.ok());
  std::string out;
  d.deflate_message("Hello", out);
  EXPECT_EQ(out, kHelloCompressed);
  out.clear();
  d.deflate_message("", out);
  EXPECT_EQ(out, bytes({0x00}));
}

TEST(Deflater, EncodeOnceSameBytesEveryTime) {
  Deflater d(15, 1);
  const std::string msg = sample_text(5000, 7);
  std::string a;
  std::string b;
  d.deflate_message(msg, a);
  d.deflate_message("something else in between", b);
  b.clear();
  d.deflate_message(msg, b);
  EXPECT_EQ(a, b);
  EXPECT_LT(a.size(), msg.size() / 2);
}

TEST(Deflater, RoundTripEveryWindowAndPeerWindow) {
  for (int bits = 8; bits <= 15; ++bits) {
    Deflater d(bits, 6);
    ASSERT_TRUE(d.ok()) << bits;
    EXPECT_EQ(d.window_bits(), bits);
    for (uint32_t seed : {1u, 2u}) {
      const std::string msg = sample_text(200000, seed);
      std::string compressed;
      d.deflate_message(msg, compressed);
      // A peer that accepted server_max_window_bits=bits inflates with exactly that window.
      EXPECT_EQ(raw_inflate(compressed, bits), msg) << "bits " << bits;
      // A peer with context takeover and the largest window also decodes it.
      DeflateParams p;
      Inflater inf(p, 1 << 24);
      std::string out;
      EXPECT_EQ(inf.inflate_message(compressed, out), Inflater::Status::kOk);
      EXPECT_EQ(out, msg);
    }
  }
}

TEST(Inflater, ClientWindowsAndTakeoverStreams) {
  // A client with context takeover: one zlib stream across messages.
  for (int bits : {9, 12, 15}) {
    DeflateParams p;
    p.client_max_window_bits = static_cast<uint8_t>(bits);
    Inflater inf(p, 1 << 24);
    z_stream s{};
    ASSERT_EQ(deflateInit2(&s, 6, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    for (uint32_t i = 0; i < 20; ++i) {
      std::string msg = sample_text(1000 + i * 977, 100 + i % 3);
      std::string comp(deflateBound(&s, msg.size()) + 64, '\0');
      s.next_in = reinterpret_cast<Bytef*>(msg.data());
      s.avail_in = static_cast<uInt>(msg.size());
      s.next_out = reinterpret_cast<Bytef*>(comp.data());
      s.avail_out = static_cast<uInt>(comp.size());
      ASSERT_EQ(deflate(&s, Z_SYNC_FLUSH), Z_OK);
      comp.resize(comp.size() - s.avail_out - 4);  // strip 00 00 ff ff
      std::string out;
      ASSERT_EQ(inf.inflate_message(comp, out), Inflater::Status::kOk) << bits << " " << i;
      ASSERT_EQ(out, msg);
    }
    deflateEnd(&s);
  }
}

}  // namespace
}  // namespace herald::ws
