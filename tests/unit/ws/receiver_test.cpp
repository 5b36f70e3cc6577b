#include "ws/receiver.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "ws/deflate.h"

namespace herald::ws {
namespace {

using testing::bytes;
using testing::client_frame;
using testing::FeedMode;
using testing::frame;
using testing::FrameSpec;

struct Case {
  std::string name;
  std::string input;
  std::vector<std::string> events;
  ReceiveError error = ReceiveError::kNone;
  bool deflate = false;
  ReceiverLimits limits{};
  bool closed = false;
};

std::string spec(int b0, std::string payload, int length_form = 0, uint64_t declared = ~0ULL) {
  FrameSpec f;
  f.b0 = b0;
  f.payload = std::move(payload);
  f.length_form = length_form;
  f.declared = declared;
  return client_frame(f);
}

std::string close_payload(uint16_t code, std::string_view reason = "") {
  std::string s = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  s += reason;
  return s;
}

std::string deflated(std::string_view msg) {
  Deflater d(15, 6);
  std::string out;
  d.deflate_message(msg, out);
  return out;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(i * 7 + (i >> 8));
  }
  return s;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  const std::string hello_c = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  ReceiverLimits small;
  small.max_frame_payload = 1000;
  small.max_message = 1000;

  // RFC 6455 5.7 examples (client side, so masked).
  c.push_back({"rfc_masked_hello",
               bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
               {"text:Hello"}});
  c.push_back({"rfc_unmasked_hello",
               bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}),
               {},
               ReceiveError::kUnmasked});
  c.push_back({"rfc_fragmented", frame(0x01, "Hel") + frame(0x80, "lo"), {"text:Hello"}});
  c.push_back({"rfc_ping", frame(0x89, "Hello"), {"ping:Hello"}});
  c.push_back({"rfc_pong",
               bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
               {"pong:Hello"}});
  c.push_back({"rfc_256_binary", frame(0x82, pattern(256)), {"binary:" + pattern(256)}});
  c.push_back({"rfc_64k_binary", frame(0x82, pattern(65536)), {"binary:" + pattern(65536)}});
  c.push_back({"length_125_126_65535",
               frame(0x82, pattern(125)) + frame(0x82, pattern(126)) + frame(0x82, pattern(65535)),
               {"binary:" + pattern(125), "binary:" + pattern(126), "binary:" + pattern(65535)}});

  // Fragmentation and interleaved control frames (Autobahn 5.x).
  c.push_back({"ping_inside_fragments",
               frame(0x01, "Hel") + frame(0x89, "p") + frame(0x80, "lo"),
               {"ping:p", "text:Hello"}});
  c.push_back({"many_fragments",
               frame(0x02, "a") + frame(0x00, "b") + frame(0x8A, "") + frame(0x00, "") +
                   frame(0x00, "c") + frame(0x80, "d"),
               {"pong:", "binary:abcd"}});
  c.push_back(
      {"empty_messages",
       frame(0x81, "") + frame(0x01, "") + frame(0x00, "") + frame(0x80, "") + frame(0x82, ""),
       {"text:", "text:", "binary:"}});
  c.push_back({"back_to_back",
               frame(0x81, "a") + frame(0x82, "b") + frame(0x81, "c"),
               {"text:a", "binary:b", "text:c"}});
  c.push_back({"utf8_split_across_fragments",
               frame(0x01, "\xce\xba\xe1") + frame(0x00, "\xbd") + frame(0x80, "\xb9\xcf\x83"),
               {"text:\xce\xba\xe1\xbd\xb9\xcf\x83"}});

  // Close frames (Autobahn 7.x).
  c.push_back({"close_empty",
               frame(0x88, "") + frame(0x81, "ignored"),
               {"close:1005:"},
               ReceiveError::kNone,
               false,
               {},
               true});
  c.push_back({"close_code_reason",
               frame(0x81, "x") + frame(0x88, close_payload(1000, "bye")),
               {"text:x", "close:1000:bye"},
               ReceiveError::kNone,
               false,
               {},
               true});
  c.push_back({"close_max_reason",
               frame(0x88, close_payload(4999, std::string(123, 'r'))),
               {"close:4999:" + std::string(123, 'r')},
               ReceiveError::kNone,
               false,
               {},
               true});
  c.push_back({"close_one_byte", frame(0x88, "\x03"), {}, ReceiveError::kBadClosePayload});
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    c.push_back({"close_code_" + std::to_string(code),
                 frame(0x88, close_payload(code)),
                 {},
                 ReceiveError::kBadCloseCode});
  }
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 3999, 4000}) {
    c.push_back({"close_ok_" + std::to_string(code),
                 frame(0x88, close_payload(code)),
                 {"close:" + std::to_string(code) + ":"},
                 ReceiveError::kNone,
                 false,
                 {},
                 true});
  }
  c.push_back({"close_bad_utf8_reason",
               frame(0x88, close_payload(1000, "\xce\xba\xed\xa0\x80")),
               {},
               ReceiveError::kInvalidUtf8});
  c.push_back({"close_126",
               spec(0x88, close_payload(1000, std::string(124, 'r')), 126),
               {},
               ReceiveError::kControlTooBig});

  // Framing violations (Autobahn 2.x, 3.x, 4.x, 5.x).
  c.push_back(
      {"rsv2", frame(0x81, "x") + frame(0xA1, "y"), {"text:x"}, ReceiveError::kReservedBits});
  c.push_back({"rsv3", frame(0x91, "y"), {}, ReceiveError::kReservedBits});
  c.push_back({"rsv1_without_deflate", frame(0xC1, "y"), {}, ReceiveError::kReservedBits});
  c.push_back({"rsv1_on_control", frame(0xC9, ""), {}, ReceiveError::kReservedBits, true});
  c.push_back({"rsv1_on_continuation",
               frame(0x41, "\xf2\x48") + frame(0xC0, "\xcd"),
               {},
               ReceiveError::kReservedBits,
               true});
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    c.push_back({"opcode_" + std::to_string(op),
                 frame(0x81, "a") + frame(0x80 | op, "x"),
                 {"text:a"},
                 ReceiveError::kReservedOpcode});
  }
  c.push_back({"ping_126", spec(0x89, std::string(126, 'p')), {}, ReceiveError::kControlTooBig});
  c.push_back({"ping_125", frame(0x89, std::string(125, 'p')), {"ping:" + std::string(125, 'p')}});
  c.push_back({"fragmented_ping",
               frame(0x09, "a") + frame(0x80, "b"),
               {},
               ReceiveError::kFragmentedControl});
  c.push_back({"lone_continuation", frame(0x80, "x"), {}, ReceiveError::kUnexpectedContinuation});
  c.push_back({"continuation_after_end",
               frame(0x81, "a") + frame(0x00, "b"),
               {"text:a"},
               ReceiveError::kUnexpectedContinuation});
  c.push_back({"text_inside_fragments",
               frame(0x01, "a") + frame(0x81, "b"),
               {},
               ReceiveError::kExpectedContinuation});
  c.push_back({"non_minimal_16", spec(0x81, "abc", 126), {}, ReceiveError::kNonMinimalLength});
  c.push_back(
      {"non_minimal_64", spec(0x82, pattern(200), 127), {}, ReceiveError::kNonMinimalLength});
  c.push_back(
      {"length_msb", spec(0x82, "", 127, 0x8000000000000000ULL), {}, ReceiveError::kLengthMsbSet});

  // Limits: checked on the declared length, before a byte of payload.
  c.push_back(
      {"frame_too_big", spec(0x82, "", 0, 1001), {}, ReceiveError::kFrameTooBig, false, small});
  c.push_back({"frame_at_limit",
               frame(0x82, pattern(1000)),
               {"binary:" + pattern(1000)},
               ReceiveError::kNone,
               false,
               small});
  c.push_back({"message_too_big",
               frame(0x02, pattern(600)) + frame(0x80, pattern(401)),
               {},
               ReceiveError::kMessageTooBig,
               false,
               small});
  c.push_back({"message_at_limit",
               frame(0x02, pattern(600)) + frame(0x80, pattern(400)),
               {"binary:" + pattern(600) + pattern(400)},
               ReceiveError::kNone,
               false,
               small});

  // UTF-8 (Autobahn 6.x).
  c.push_back({"bad_utf8",
               frame(0x81,
                     "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                     "edited"),
               {},
               ReceiveError::kInvalidUtf8});
  c.push_back({"utf8_truncated_at_end", frame(0x81, "ok\xce"), {}, ReceiveError::kInvalidUtf8});
  c.push_back({"utf8_truncated_fragmented",
               frame(0x01, "ok") + frame(0x80, "\xe2\x82"),
               {},
               ReceiveError::kInvalidUtf8});
  c.push_back({"binary_not_checked", frame(0x82, "\xff\xfe"), {"binary:\xff\xfe"}});

  // permessage-deflate (RFC 7692 7.2.3, Autobahn 12.x / 13.x).
  c.push_back({"deflate_hello", frame(0xC1, hello_c), {"text:Hello"}, ReceiveError::kNone, true});
  c.push_back(
      {"deflate_fragmented",
       frame(0x41, hello_c.substr(0, 3)) + frame(0x89, "p") + frame(0x80, hello_c.substr(3)),
       {"ping:p", "text:Hello"},
       ReceiveError::kNone,
       true});
  c.push_back({"deflate_shared_window",
               frame(0xC1, hello_c) + frame(0xC1, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})),
               {"text:Hello", "text:Hello"},
               ReceiveError::kNone,
               true});
  c.push_back({"deflate_empty",
               frame(0xC1, bytes({0x00})) + frame(0xC2, ""),
               {"text:", "binary:"},
               ReceiveError::kNone,
               true});
  c.push_back({"deflate_binary_large",
               frame(0xC2, deflated(pattern(100000))),
               {"binary:" + pattern(100000)},
               ReceiveError::kNone,
               true});
  c.push_back({"deflate_mixed_plain",
               frame(0x81, "plain") + frame(0xC1, hello_c),
               {"text:plain", "text:Hello"},
               ReceiveError::kNone,
               true});
  c.push_back({"deflate_corrupt",
               frame(0xC1, bytes({0xff, 0xff, 0xff})),
               {},
               ReceiveError::kInflateFailed,
               true});
  c.push_back({"deflate_bad_utf8",
               frame(0xC1, deflated("ab\xed\xa0\x80")),
               {},
               ReceiveError::kInvalidUtf8,
               true});
  c.push_back({"deflate_bomb",
               frame(0xC2, deflated(std::string(2 * 1024 * 1024, 'z'))),
               {},
               ReceiveError::kInflatedTooBig,
               true});
  return c;
}

std::string show(const std::vector<std::string>& events) {
  std::string s;
  for (const auto& e : events) {
    s += "[" + (e.size() > 40 ? e.substr(0, 40) + "...(" + std::to_string(e.size()) + ")" : e) +
         "] ";
  }
  return s;
}

TEST(Receiver, TableInEveryFeedMode) {
  std::set<ReceiveError> reached;
  for (const Case& c : cases()) {
    for (FeedMode mode : {FeedMode::kWhole, FeedMode::kBytewise, FeedMode::kRandom}) {
      for (uint32_t seed : {1u, 2u, 3u}) {
        if (mode != FeedMode::kRandom && seed > 1) {
          continue;
        }
        std::unique_ptr<Inflater> inflater;
        if (c.deflate) {
          inflater = std::make_unique<Inflater>(DeflateParams{}, 1024 * 1024);
        }
        Receiver r(c.limits, inflater.get());
        auto res = testing::feed(r, c.input, mode, seed);
        std::string where = c.name + " (" + testing::mode_name(mode) + ")";
        EXPECT_EQ(res.events, c.events) << where << ": " << show(res.events);
        EXPECT_EQ(res.error, c.error) << where << ": " << to_string(res.error);
        EXPECT_EQ(res.closed, c.closed) << where;
        EXPECT_LT(res.max_kept, 14u) << where;
        reached.insert(res.error);
      }
    }
  }
  // Every error the Receiver can report is exercised by the table.
  for (int e = 0; e <= static_cast<int>(ReceiveError::kInflateFailed); ++e) {
    EXPECT_TRUE(reached.count(static_cast<ReceiveError>(e)))
        << "unreached: " << to_string(static_cast<ReceiveError>(e));
  }
}

TEST(Receiver, CloseCodes) {
  EXPECT_EQ(close_code_for(ReceiveError::kInvalidUtf8), 1007);
  EXPECT_EQ(close_code_for(ReceiveError::kInflateFailed), 1007);
  EXPECT_EQ(close_code_for(ReceiveError::kFrameTooBig), 1009);
  EXPECT_EQ(close_code_for(ReceiveError::kMessageTooBig), 1009);
  EXPECT_EQ(close_code_for(ReceiveError::kInflatedTooBig), 1009);
  for (ReceiveError e :
       {ReceiveError::kUnmasked, ReceiveError::kReservedBits, ReceiveError::kReservedOpcode,
        ReceiveError::kControlTooBig, ReceiveError::kFragmentedControl,
        ReceiveError::kUnexpectedContinuation, ReceiveError::kExpectedContinuation,
        ReceiveError::kNonMinimalLength, ReceiveError::kLengthMsbSet,
        ReceiveError::kBadClosePayload, ReceiveError::kBadCloseCode}) {
    EXPECT_EQ(close_code_for(e), 1002) << to_string(e);
  }
}

// Records the payload address to prove the zero-copy path.
class PointerRecorder : public Receiver::Events {
 public:
  void on_message(Opcode, std::string_view payload) override {
    data = payload.data();
    ++messages;
  }
  void on_ping(std::string_view) override {}
  void on_pong(std::string_view) override {}
  void on_close(uint16_t, std::string_view) override {}
  const char* data = nullptr;
  int messages = 0;
};

TEST(Receiver, WholeFrameIsDeliveredInPlace) {
  std::string in = frame(0x82, pattern(300));
  Receiver r(ReceiverLimits{}, nullptr);
  PointerRecorder rec;
  EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(in.data()), in.size(), rec), in.size());
  EXPECT_EQ(rec.messages, 1);
  EXPECT_EQ(rec.data, in.data() + 4 + 4);  // 2-byte header + 16-bit length + mask key
  EXPECT_EQ(r.buffered_capacity(), 0u);
}

TEST(Receiver, FailsFastOnBadUtf8MidFrameAndMidMessage) {
  // Autobahn 6.4.1: the first fragment is already invalid; the rest never needs to arrive.
  {
    Receiver r(ReceiverLimits{}, nullptr);
    testing::Recorder rec;
    std::string in = frame(0x01, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80");
    r.consume(reinterpret_cast<uint8_t*>(in.data()), in.size(), rec);
    EXPECT_EQ(r.error(), ReceiveError::kInvalidUtf8);
  }
  // Autobahn 6.4.3: one frame whose payload trickles in; fail on the chunk with the bad byte.
  {
    Receiver r(ReceiverLimits{}, nullptr);
    testing::Recorder rec;
    std::string payload = "abcdefghij\xed\xa0\x80" + std::string(1000, 'x');
    std::string in = frame(0x81, payload);
    size_t used = r.consume(reinterpret_cast<uint8_t*>(in.data()), 8 + 8, rec);
    EXPECT_EQ(used, 16u);
    EXPECT_EQ(r.error(), ReceiveError::kNone);
    r.consume(reinterpret_cast<uint8_t*>(in.data()) + 16, 8, rec);
    EXPECT_EQ(r.error(), ReceiveError::kInvalidUtf8);
    EXPECT_TRUE(rec.events.empty());
    EXPECT_EQ(r.buffered_capacity(), 0u);
    // Sticky: nothing more is parsed.
    std::string more = frame(0x81, "ok");
    EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(more.data()), more.size(), rec), 0u);
    EXPECT_TRUE(rec.events.empty());
  }
}

TEST(Receiver, IgnoresBytesAfterClose) {
  Receiver r(ReceiverLimits{}, nullptr);
  testing::Recorder rec;
  std::string in = frame(0x88, close_payload(1001, "away")) + frame(0x81, "late");
  EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(in.data()), in.size(), rec), in.size());
  EXPECT_TRUE(r.closed());
  std::string more = frame(0x81, "later");
  EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(more.data()), more.size(), rec), more.size());
  EXPECT_EQ(rec.events, std::vector<std::string>{"close:1001:away"});
}

TEST(Receiver, KeepsIncompleteHeaderOnly) {
  Receiver r(ReceiverLimits{}, nullptr);
  testing::Recorder rec;
  std::string in = frame(0x82, pattern(70000));  // 14-byte header
  for (size_t k = 0; k < 14; ++k) {
    EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(in.data()), k, rec), 0u) << k;
  }
  EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(in.data()), 20, rec), 20u);
  EXPECT_EQ(r.consume(reinterpret_cast<uint8_t*>(in.data()) + 20, in.size() - 20, rec),
            in.size() - 20);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0], "binary:" + pattern(70000));
}

TEST(Receiver, LargeMessageInSocketSizedReadsThenNoHeapKept) {
  Receiver r(ReceiverLimits{}, nullptr);
  std::string payload = pattern(4 * 1024 * 1024);
  std::string in = frame(0x02, payload.substr(0, 1 << 20)) + frame(0x80, payload.substr(1 << 20));
  auto res = testing::feed(r, in, FeedMode::kWhole);
  ASSERT_EQ(res.events.size(), 1u);
  EXPECT_TRUE(res.events[0] == "binary:" + payload);
  EXPECT_EQ(r.buffered_capacity(), 0u);

  Receiver r2(ReceiverLimits{}, nullptr);
  testing::Recorder rec;
  std::string pending;
  for (size_t pos = 0; pos < in.size(); pos += 65536) {
    pending.append(in.substr(pos, 65536));
    size_t used = r2.consume(reinterpret_cast<uint8_t*>(pending.data()), pending.size(), rec);
    pending.erase(0, used);
  }
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_TRUE(rec.events[0] == "binary:" + payload);
  EXPECT_EQ(r2.buffered_capacity(), 0u);
}

TEST(Receiver, IsSmall) {
  std::printf("sizeof(Receiver) = %zu, sizeof(Utf8Validator) = %zu\n", sizeof(Receiver),
              sizeof(Utf8Validator));
  EXPECT_LE(sizeof(Receiver), 96u);
  Receiver r(ReceiverLimits{}, nullptr);
  EXPECT_EQ(r.buffered_capacity(), 0u);
}

}  // namespace
}  // namespace herald::ws
