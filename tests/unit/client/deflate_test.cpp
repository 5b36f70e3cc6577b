#include "herald/client/deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "test_util.h"

namespace herald::client {
namespace {

using test::bytes;

TEST(Inflater, Rfc7692Examples) {
  // RFC 7692 7.2.3.1 / 7.2.3.2: "Hello" compressed, then again with the context taken over.
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.inflate_message(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), 100, out),
            FrameError::kNone);
  EXPECT_EQ(out, "Hello");
  EXPECT_EQ(inflater.inflate_message(bytes({0xf2, 0x00, 0x11, 0x00, 0x01, 0x00}), 100, out),
            FrameError::kNone);
  EXPECT_EQ(out, "Hello");
  // 7.2.3.3: no compression (BFINAL=0 stored block).
  EXPECT_EQ(inflater.inflate_message(
                bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o', 0x00}), 100, out),
            FrameError::kNone);
  EXPECT_EQ(out, "Hello");
}

TEST(Inflater, CorruptDataFails) {
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.inflate_message(bytes({0xff, 0xff, 0xff, 0xff}), 100, out),
            FrameError::kInflateFailed);
}

TEST(Inflater, BombStopsAtTheLimit) {
  Deflater deflater(15, false);
  std::string zeros(1 << 20, '\0');
  std::string packed;
  ASSERT_TRUE(deflater.deflate_message(zeros, packed));
  EXPECT_LT(packed.size(), 5000u);
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.inflate_message(packed, 1000, out), FrameError::kMessageTooLarge);
  EXPECT_LE(out.size(), 1000u + 16 * 1024);
}

TEST(DeflateRoundTrip, WithAndWithoutContextTakeover) {
  for (bool no_takeover : {false, true}) {
    Deflater deflater(15, no_takeover);
    Inflater inflater(15, no_takeover);
    std::string packed;
    std::string out;
    std::vector<std::string> messages = {"", "Hello", "Hello", std::string(100000, 'x'),
                                         "tail message"};
    for (const std::string& m : messages) {
      ASSERT_TRUE(deflater.deflate_message(m, packed));
      ASSERT_EQ(inflater.inflate_message(packed, 1 << 20, out), FrameError::kNone);
      EXPECT_EQ(out, m) << no_takeover;
    }
  }
}

TEST(DeflateRoundTrip, SmallWindow) {
  Deflater deflater(9, true);
  Inflater inflater(9, true);
  std::string packed;
  std::string out;
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += std::to_string(i % 97);
  }
  ASSERT_TRUE(deflater.deflate_message(text, packed));
  ASSERT_EQ(inflater.inflate_message(packed, 1 << 20, out), FrameError::kNone);
  EXPECT_EQ(out, text);
}

}  // namespace
}  // namespace herald::client

namespace herald::client {
namespace {

// A sender may end a message with a BFINAL block (a whole raw DEFLATE stream); the next message
// then starts a new stream.
std::string finished_stream(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(text.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

TEST(Inflater, FinalBlockThenNextMessage) {
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.inflate_message(finished_stream("first"), 100, out), FrameError::kNone);
  EXPECT_EQ(out, "first");
  EXPECT_EQ(inflater.inflate_message(finished_stream("second"), 100, out), FrameError::kNone);
  EXPECT_EQ(out, "second");
  // Bytes after the end of the stream are an error, and the inflater recovers for the next one.
  EXPECT_EQ(inflater.inflate_message(finished_stream("x") + "junk", 100, out),
            FrameError::kInflateFailed);
  EXPECT_EQ(inflater.inflate_message(finished_stream("third"), 100, out), FrameError::kNone);
  EXPECT_EQ(out, "third");
}

}  // namespace
}  // namespace herald::client
