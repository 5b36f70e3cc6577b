#include "herald/client/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace herald::client {
namespace {

using test::bytes;
using test::server_frame;

struct Seen {
  FrameEvent::Kind kind;
  Opcode opcode;
  bool compressed;
  uint16_t close_code;
  FrameError error;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{kind " << static_cast<int>(s.kind) << " op " << static_cast<int>(s.opcode)
            << " code " << s.close_code << " err " << to_string(s.error) << " payload "
            << s.payload.size() << "B}";
}

Seen msg(Opcode op, std::string payload, bool compressed = false) {
  return {FrameEvent::Kind::kMessage, op, compressed, 0, FrameError::kNone, std::move(payload)};
}
Seen ctl(FrameEvent::Kind kind, std::string payload, uint16_t code = 0) {
  return {kind, Opcode::kText, false, code, FrameError::kNone, std::move(payload)};
}
Seen err(FrameError e) {
  return {FrameEvent::Kind::kError, Opcode::kText, false, 0, e, {}};
}

std::vector<Seen> feed(FrameParser& parser, const std::vector<std::string>& chunks) {
  std::vector<Seen> seen;
  for (const std::string& chunk : chunks) {
    std::string_view rest = chunk;
    while (true) {
      size_t used = 0;
      FrameEvent ev = parser.parse(rest, &used);
      EXPECT_LE(used, rest.size());
      rest.remove_prefix(used);
      if (ev.kind == FrameEvent::Kind::kNeedMore) {
        EXPECT_TRUE(rest.empty());
        break;
      }
      Seen s{ev.kind, ev.opcode, ev.compressed, ev.close_code, ev.error, std::string(ev.payload)};
      if (ev.kind != FrameEvent::Kind::kMessage) {
        s.opcode = Opcode::kText;
      }
      seen.push_back(s);
      if (ev.kind == FrameEvent::Kind::kError) {
        return seen;  // the parser is dead: nothing more is reported
      }
    }
  }
  return seen;
}

struct ParseCase {
  const char* name;
  std::string input;
  std::vector<Seen> expected;
  bool allow_compression = false;
  uint64_t max_message = 1u << 20;
};

std::vector<ParseCase> parse_cases() {
  std::string big256(256, 'b');
  std::string big64k(65536, 'c');
  return {
      // RFC 6455 5.7 examples (the unmasked ones are what servers send).
      {"rfc_single_text",
       bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}),
       {msg(Opcode::kText, "Hello")}},
      {"rfc_fragmented_text",
       bytes({0x01, 0x03, 'H', 'e', 'l', 0x80, 0x02, 'l', 'o'}),
       {msg(Opcode::kText, "Hello")}},
      {"rfc_ping",
       bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}),
       {ctl(FrameEvent::Kind::kPing, "Hello")}},
      {"rfc_pong",
       bytes({0x8A, 0x05, 'H', 'e', 'l', 'l', 'o'}),
       {ctl(FrameEvent::Kind::kPong, "Hello")}},
      {"rfc_256_binary", server_frame(0x82, big256), {msg(Opcode::kBinary, big256)}},
      {"rfc_64k_binary", server_frame(0x82, big64k), {msg(Opcode::kBinary, big64k)}},
      {"empty_text", bytes({0x81, 0x00}), {msg(Opcode::kText, "")}},
      {"empty_fragments", bytes({0x02, 0x00, 0x00, 0x00, 0x80, 0x00}), {msg(Opcode::kBinary, "")}},
      {"two_messages",
       server_frame(0x81, "a") + server_frame(0x82, "bc"),
       {msg(Opcode::kText, "a"), msg(Opcode::kBinary, "bc")}},
      {"ping_inside_fragments",
       bytes({0x01, 0x02, 'a', 'b', 0x89, 0x01, 'p', 0x00, 0x01, 'c', 0x80, 0x01, 'd'}),
       {ctl(FrameEvent::Kind::kPing, "p"), msg(Opcode::kText, "abcd")}},
      {"close_with_code",
       bytes({0x88, 0x04, 0x03, 0xE8, 'o', 'k'}),
       {ctl(FrameEvent::Kind::kClose, "ok", 1000)}},
      {"close_empty", bytes({0x88, 0x00}), {ctl(FrameEvent::Kind::kClose, "", 1005)}},
      {"close_app_code",
       bytes({0x88, 0x02, 0x0F, 0xA0}),
       {ctl(FrameEvent::Kind::kClose, "", 4000)}},
      {"compressed_allowed", bytes({0xC1, 0x01, 'z'}), {msg(Opcode::kText, "z", true)}, true},
      {"compressed_fragments",
       bytes({0x41, 0x01, 'y', 0x80, 0x01, 'z'}),
       {msg(Opcode::kText, "yz", true)},
       true},
      {"max_size_exact",
       server_frame(0x82, std::string(10, 'm')),
       {msg(Opcode::kBinary, std::string(10, 'm'))},
       false,
       10},
      // Errors.
      {"masked",
       bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       {err(FrameError::kMaskedFrame)}},
      {"rsv2", bytes({0xA1, 0x00}), {err(FrameError::kReservedBits)}},
      {"rsv3", bytes({0x91, 0x00}), {err(FrameError::kReservedBits)}},
      {"rsv1_not_negotiated", bytes({0xC1, 0x00}), {err(FrameError::kReservedBits)}},
      {"rsv1_on_continuation",
       bytes({0x41, 0x01, 'y', 0xC0, 0x01, 'z'}),
       {err(FrameError::kReservedBits)},
       true},
      {"rsv1_on_control", bytes({0xC9, 0x00}), {err(FrameError::kReservedBits)}, true},
      {"opcode_3", bytes({0x83, 0x00}), {err(FrameError::kUnknownOpcode)}},
      {"opcode_b", bytes({0x8B, 0x00}), {err(FrameError::kUnknownOpcode)}},
      {"opcode_f", bytes({0x8F, 0x00}), {err(FrameError::kUnknownOpcode)}},
      {"fragmented_ping", bytes({0x09, 0x00}), {err(FrameError::kFragmentedControl)}},
      {"long_ping", bytes({0x89, 0x7E, 0x00, 0x7E}), {err(FrameError::kControlTooLong)}},
      {"lone_continuation", bytes({0x80, 0x00}), {err(FrameError::kUnexpectedContinuation)}},
      {"text_inside_fragments",
       bytes({0x01, 0x01, 'a', 0x81, 0x01, 'b'}),
       {err(FrameError::kExpectedContinuation)}},
      {"non_minimal_16", bytes({0x82, 0x7E, 0x00, 0x05}), {err(FrameError::kNonMinimalLength)}},
      {"non_minimal_64",
       bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x01, 0x00}),
       {err(FrameError::kNonMinimalLength)}},
      {"length_high_bit",
       bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}),
       {err(FrameError::kLengthTooLarge)}},
      {"too_large",
       server_frame(0x82, std::string(11, 'm')),
       {err(FrameError::kMessageTooLarge)},
       false,
       10},
      {"too_large_fragments",
       bytes({0x02, 0x06, 1, 2, 3, 4, 5, 6, 0x80, 0x05, 1, 2, 3, 4, 5}),
       {err(FrameError::kMessageTooLarge)},
       false,
       10},
      {"close_one_byte", bytes({0x88, 0x01, 0x03}), {err(FrameError::kBadClosePayload)}},
      {"close_code_999", bytes({0x88, 0x02, 0x03, 0xE7}), {err(FrameError::kBadClosePayload)}},
      {"close_code_1005", bytes({0x88, 0x02, 0x03, 0xED}), {err(FrameError::kBadClosePayload)}},
      {"close_code_5000", bytes({0x88, 0x02, 0x13, 0x88}), {err(FrameError::kBadClosePayload)}},
      {"close_bad_utf8",
       bytes({0x88, 0x03, 0x03, 0xE8, 0xFF}),
       {err(FrameError::kBadClosePayload)}},
      {"message_then_error",
       bytes({0x81, 0x01, 'a', 0x83, 0x00}),
       {msg(Opcode::kText, "a"), err(FrameError::kUnknownOpcode)}},
  };
}

class FrameParserTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(FrameParserTest, WholeBytewiseAndRandomChunks) {
  const ParseCase& c = GetParam();
  int variant = 0;
  for (const auto& chunks : test::chunkings(c.input, 1234)) {
    FrameParser parser(c.max_message);
    parser.set_allow_compression(c.allow_compression);
    EXPECT_EQ(feed(parser, chunks), c.expected) << c.name << " chunking " << variant;
    bool should_fail = !c.expected.empty() && c.expected.back().kind == FrameEvent::Kind::kError;
    EXPECT_EQ(parser.failed(), should_fail);
    ++variant;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FrameParserTest, ::testing::ValuesIn(parse_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(FrameParser, StaysFailedAfterAnError) {
  FrameParser parser;
  size_t used = 0;
  std::string bad = bytes({0x83, 0x00});
  EXPECT_EQ(parser.parse(bad, &used).kind, FrameEvent::Kind::kError);
  std::string good = bytes({0x81, 0x01, 'a'});
  EXPECT_EQ(parser.parse(good, &used).kind, FrameEvent::Kind::kError);
  EXPECT_EQ(used, good.size());
}

TEST(FrameParser, PayloadOfWholeFrameIsNotCopied) {
  FrameParser parser;
  std::string frame = server_frame(0x82, "zero-copy");
  size_t used = 0;
  FrameEvent ev = parser.parse(frame, &used);
  ASSERT_EQ(ev.kind, FrameEvent::Kind::kMessage);
  EXPECT_EQ(ev.payload.data(), frame.data() + 2);
}

TEST(FrameEncoder, HeaderSizesAndLengthForms) {
  struct Case {
    uint64_t len;
    size_t header;
    uint8_t len_byte;
  };
  for (Case c : {Case{0, 6, 0x80}, Case{125, 6, 0x80 | 125}, Case{126, 8, 0x80 | 126},
                 Case{65535, 8, 0x80 | 126}, Case{65536, 14, 0x80 | 127}}) {
    uint8_t out[kMaxClientFrameHeader];
    size_t n = encode_client_header(out, Opcode::kBinary, c.len, 0x04030201);
    EXPECT_EQ(n, c.header) << c.len;
    EXPECT_EQ(out[0], 0x82);
    EXPECT_EQ(out[1], c.len_byte);
    EXPECT_EQ(out[n - 4], 0x01);  // mask key in memory order
    EXPECT_EQ(out[n - 1], 0x04);
    if (c.header == 8) {
      EXPECT_EQ((out[2] << 8) | out[3], static_cast<int>(c.len));
    }
    if (c.header == 14) {
      EXPECT_EQ(out[7], 0x01);
      EXPECT_EQ(out[8], 0x00);
    }
  }
  uint8_t out[kMaxClientFrameHeader];
  encode_client_header(out, Opcode::kText, 1, 0, /*fin=*/false, /*rsv1=*/true);
  EXPECT_EQ(out[0], 0x41);
}

TEST(FrameEncoder, RfcMaskedHelloExample) {
  // RFC 6455 5.7: masked "Hello" with key 37 fa 21 3d.
  std::string out;
  uint32_t key;
  const uint8_t key_bytes[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::memcpy(&key, key_bytes, 4);
  append_client_frame(out, Opcode::kText, "Hello", key);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameEncoder, MaskMatchesNaiveForEveryLengthAndPhase) {
  for (size_t len = 0; len < 40; ++len) {
    for (size_t phase = 0; phase < 4; ++phase) {
      std::string data(len, '\0');
      for (size_t i = 0; i < len; ++i) {
        data[i] = static_cast<char>(i * 7 + 3);
      }
      std::string naive = data;
      const uint32_t key = 0xA1B2C3D4;
      uint8_t kb[4];
      std::memcpy(kb, &key, 4);
      for (size_t i = 0; i < len; ++i) {
        naive[i] = static_cast<char>(naive[i] ^ kb[(i + phase) % 4]);
      }
      mask_bytes(reinterpret_cast<uint8_t*>(data.data()), len, key, phase);
      EXPECT_EQ(data, naive) << len << " " << phase;
    }
  }
}

TEST(FrameEncoder, AppendedFramesUnmaskToThePayload) {
  for (size_t len : {0u, 5u, 125u, 126u, 1000u, 70000u}) {
    std::string payload(len, 'p');
    std::string out = "prefix";
    append_client_frame(out, Opcode::kBinary, payload, 0xDEADBEEF);
    size_t header = len < 126 ? 6 : (len <= 0xFFFF ? 8 : 14);
    ASSERT_EQ(out.size(), 6 + header + len);
    std::string body = out.substr(6 + header);
    mask_bytes(reinterpret_cast<uint8_t*>(body.data()), body.size(), 0xDEADBEEF);
    EXPECT_EQ(body, payload);
  }
}

TEST(Close, PayloadCodesAndMapping) {
  EXPECT_EQ(make_close_payload(1000, "bye"), bytes({0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(make_close_payload(1001, std::string(200, 'r')).size(), kMaxControlPayload);
  for (uint16_t ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
    EXPECT_TRUE(is_valid_close_code(ok)) << ok;
  }
  for (uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    EXPECT_FALSE(is_valid_close_code(bad)) << bad;
  }
  EXPECT_EQ(close_code_for(FrameError::kMessageTooLarge), 1009);
  EXPECT_EQ(close_code_for(FrameError::kInvalidUtf8), 1007);
  EXPECT_EQ(close_code_for(FrameError::kInflateFailed), 1007);
  EXPECT_EQ(close_code_for(FrameError::kMaskedFrame), 1002);
  EXPECT_NE(to_string(FrameError::kMaskedFrame), to_string(FrameError::kNone));
}

TEST(Utf8, Table) {
  struct Case {
    std::string text;
    bool valid;
  };
  std::vector<Case> cases = {
      {"", true},
      {"plain ascii long enough for the fast path", true},
      {"\xC3\xA9", true},           // é
      {"\xE2\x82\xAC", true},       // €
      {"\xF0\x9F\x98\x80", true},   // emoji
      {"\xF4\x8F\xBF\xBF", true},   // U+10FFFF
      {"\xC0\x80", false},          // overlong NUL
      {"\xE0\x80\x80", false},      // overlong 3-byte
      {"\xF0\x80\x80\x80", false},  // overlong 4-byte
      {"\xED\xA0\x80", false},      // surrogate
      {"\xF4\x90\x80\x80", false},  // > U+10FFFF
      {"\x80", false},              // stray continuation
      {"\xE2\x82", false},          // truncated
      {"abcdefgh\xFF", false},      // invalid after the fast path
      {"abcdefg\xC3\xA9xyz12345678", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_utf8(c.text), c.valid) << testing::PrintToString(c.text);
  }
}

}  // namespace
}  // namespace herald::client
