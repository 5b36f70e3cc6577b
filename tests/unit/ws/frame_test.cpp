#include "ws/frame.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"
#include "ws/utf8.h"

namespace herald::ws {
namespace {

using testing::bytes;

TEST(CloseCode, BoundariesFollowRfc6455Section7_4) {
  struct Case {
    uint16_t code;
    bool valid;
  };
  const Case cases[] = {
      {0, false},    {999, false},  {1000, true},  {1001, true},   {1002, true}, {1003, true},
      {1004, false}, {1005, false}, {1006, false}, {1007, true},   {1008, true}, {1009, true},
      {1010, true},  {1011, true},  {1012, true},  {1013, true},   {1014, true}, {1015, false},
      {1016, false}, {1100, false}, {2000, false}, {2999, false},  {3000, true}, {3999, true},
      {4000, true},  {4999, true},  {5000, false}, {65535, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_valid_received_close_code(c.code), c.valid) << c.code;
  }
}

TEST(EncodeHeader, LengthForms) {
  uint8_t h[kMaxHeaderSize];
  EXPECT_EQ(encode_header(h, Opcode::kText, 5, true, false), 2u);
  EXPECT_EQ(h[0], 0x81);
  EXPECT_EQ(h[1], 0x05);
  EXPECT_EQ(encode_header(h, Opcode::kBinary, 125, true, false), 2u);
  EXPECT_EQ(h[1], 125);
  EXPECT_EQ(encode_header(h, Opcode::kBinary, 126, true, false), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(h), 4), bytes({0x82, 0x7E, 0x00, 0x7E}));
  // RFC 6455 5.7: 256 bytes binary in a single unmasked frame.
  EXPECT_EQ(encode_header(h, Opcode::kBinary, 256, true, false), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(h), 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(encode_header(h, Opcode::kBinary, 65535, true, false), 4u);
  // RFC 6455 5.7: 64 KiB binary.
  EXPECT_EQ(encode_header(h, Opcode::kBinary, 65536, true, false), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(h), 10),
            bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(encode_header(h, Opcode::kText, 0x0102030405060708ULL, false, true), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(h), 10),
            bytes({0x41, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(encode_header(h, Opcode::kContinuation, 0, false, false), 2u);
  EXPECT_EQ(h[0], 0x00);
}

TEST(AppendFrame, Rfc6455Examples) {
  std::string out;
  append_frame(out, Opcode::kText, "Hello");
  EXPECT_EQ(out, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, Opcode::kPing, "Hello");
  EXPECT_EQ(out, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  // RFC 7692 7.2.3.1: compressed "Hello".
  append_frame(out, Opcode::kText, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true);
  EXPECT_EQ(out, bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  out.assign(1, 'x');  // (not = "x": GCC 12 -O3 emits a false -Wrestrict)
  append_frame(out, Opcode::kBinary, std::string(300, 'a'));
  EXPECT_EQ(out.size(), 1u + 4u + 300u);
}

TEST(AppendClose, CodeAndReason) {
  std::string out;
  append_close(out, kCloseNormal, "bye");
  EXPECT_EQ(out, bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  out.clear();
  append_close(out, kCloseNoStatus, "ignored");
  EXPECT_EQ(out, bytes({0x88, 0x00}));
}

TEST(AppendClose, ReasonCutOnCharacterBoundary) {
  // 122 ASCII bytes then a 3-byte character straddling the 123-byte limit.
  std::string reason(122, 'r');
  reason += "\xE2\x82\xAC";
  reason += "tail";
  std::string out;
  append_close(out, kCloseGoingAway, reason);
  ASSERT_EQ(out.size(), 2u + 2u + 122u);
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 124);
  EXPECT_TRUE(is_valid_utf8(std::string_view(out).substr(4)));

  std::string exact(kMaxCloseReason, 'e');
  out.clear();
  append_close(out, kCloseGoingAway, exact + "more");
  EXPECT_EQ(out.size(), 2u + 2u + kMaxCloseReason);
  EXPECT_EQ(static_cast<uint8_t>(out[1]), kMaxControlPayload);
}

}  // namespace
}  // namespace herald::ws
