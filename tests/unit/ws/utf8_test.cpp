#include "ws/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::ws {
namespace {

// Reference: decodes code points one by one and checks each against RFC 3629 directly.
// Returns the index of the first byte that cannot start or continue a valid sequence, or
// the input size if all characters are complete and valid, or size + 1 if truncated.
size_t reference_first_error(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t b = static_cast<uint8_t>(s[i]);
    size_t need;
    uint32_t cp;
    uint32_t min;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return i;
    }
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= s.size()) {
        return s.size() + 1;
      }
      uint8_t c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        return i + k;
      }
      cp = (cp << 6) | (c & 0x3F);
      // The earliest byte at which the value is known to be out of range is the second.
      if (k == 1) {
        uint32_t lo = cp << (6 * (need - 1));
        uint32_t hi = lo | ((1u << (6 * (need - 1))) - 1);
        if (hi < min || lo > 0x10FFFF || (lo >= 0xD800 && hi <= 0xDFFF)) {
          return i + k;
        }
      }
    }
    i += need + 1;
  }
  return s.size();
}

size_t dfa_first_error(std::string_view s) {
  Utf8Validator v;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(reinterpret_cast<const uint8_t*>(s.data() + i), 1)) {
      return i;
    }
  }
  return v.complete() ? s.size() : s.size() + 1;
}

struct Case {
  bool valid;
  std::string bytes;
};

// Markus Kuhn's UTF-8 decoder stress test, as used by Autobahn|Testsuite section 6.
std::vector<Case> kuhn_cases() {
  std::vector<Case> c = {
      {true, "hello\x24world"},
      {true, "hello\xC2\xA2world"},
      {true, "hello\xE2\x82\xACworld"},
      {true, "hello\xF0\xA4\xAD\xA2world"},
      {true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},
      {true, std::string("\x00", 1)},
      {true, "\xc2\x80"},
      {true, "\xe0\xa0\x80"},
      {true, "\xf0\x90\x80\x80"},
      {false, "\xf8\x88\x80\x80\x80"},
      {false, "\xfc\x84\x80\x80\x80\x80"},
      {true, "\x7f"},
      {true, "\xdf\xbf"},
      {true, "\xef\xbf\xbf"},
      {true, "\xf4\x8f\xbf\xbf"},
      {false, "\xf7\xbf\xbf\xbf"},
      {false, "\xfb\xbf\xbf\xbf\xbf"},
      {false, "\xfd\xbf\xbf\xbf\xbf\xbf"},
      {true, "\xed\x9f\xbf"},
      {true, "\xee\x80\x80"},
      {true, "\xef\xbf\xbd"},
      {false, "\xf4\x90\x80\x80"},
      {false, "\x80"},
      {false, "\xbf"},
      {false, "\x80\xbf"},
      {false, "\x80\xbf\x80\xbf\x80\xbf"},
      {false, "\xc0"},
      {false, "\xe0\x80"},
      {false, "\xf0\x80\x80"},
      {false, "\xdf"},
      {false, "\xef\xbf"},
      {false, "\xf7\xbf\xbf"},
      {false, "\xfe"},
      {false, "\xff"},
      {false, "\xfe\xfe\xff\xff"},
      {false, "\xc0\xaf"},
      {false, "\xe0\x80\xaf"},
      {false, "\xf0\x80\x80\xaf"},
      {false, "\xf8\x80\x80\x80\xaf"},
      {false, "\xc1\xbf"},
      {false, "\xe0\x9f\xbf"},
      {false, "\xf0\x8f\xbf\xbf"},
      {false, "\xc0\x80"},
      {false, "\xe0\x80\x80"},
      {false, "\xf0\x80\x80\x80"},
      {false, "\xed\xa0\x80"},
      {false, "\xed\xad\xbf"},
      {false, "\xed\xae\x80"},
      {false, "\xed\xaf\xbf"},
      {false, "\xed\xb0\x80"},
      {false, "\xed\xbe\x80"},
      {false, "\xed\xbf\xbf"},
      {false, "\xed\xa0\x80\xed\xb0\x80"},
      {false, "\xed\xaf\xbf\xed\xbf\xbf"},
      {true, "\xef\xbf\xbe"},
      {true, "\xf0\x9f\xbf\xbe"},
      {true, "\xf4\x8f\xbf\xbf"},
      {true, "\xef\xbf\xb9"},
      {false, "\x65\x64\x69\x74\x65\x64\xed\xa0\x80"},
  };
  // Unexpected continuation bytes 80..BE in a row; lonely start characters with spaces.
  std::string conts;
  for (int b = 0x80; b < 0xBF; ++b) {
    conts.push_back(static_cast<char>(b));
  }
  c.push_back({false, conts});
  for (auto [lo, hi] : {std::pair{0xC0, 0xDF}, {0xE0, 0xEF}, {0xF0, 0xF7}, {0xF8, 0xFB}}) {
    std::string s;
    for (int b = lo; b < hi; ++b) {
      s.push_back(static_cast<char>(b));
      s.push_back(' ');
    }
    c.push_back({false, s});
  }
  // All prefixes of a valid multi-byte string: valid only at character boundaries.
  std::string kappa = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  for (size_t n : {2, 5, 7, 9, 11}) {
    c.push_back({true, kappa.substr(0, n)});
  }
  for (size_t n : {1, 3, 4, 6, 8, 10}) {
    c.push_back({false, kappa.substr(0, n)});
  }
  return c;
}

TEST(Utf8, KuhnStressCases) {
  for (const Case& c : kuhn_cases()) {
    EXPECT_EQ(is_valid_utf8(c.bytes), c.valid) << ::testing::PrintToString(c.bytes);
    EXPECT_EQ(dfa_first_error(c.bytes), reference_first_error(c.bytes))
        << ::testing::PrintToString(c.bytes);
    // Fed in every two-piece split: same verdict.
    for (size_t cut = 0; cut <= c.bytes.size(); ++cut) {
      Utf8Validator v;
      const auto* p = reinterpret_cast<const uint8_t*>(c.bytes.data());
      bool ok = v.feed(p, cut) && v.feed(p + cut, c.bytes.size() - cut) && v.complete();
      EXPECT_EQ(ok, c.valid) << ::testing::PrintToString(c.bytes) << " cut " << cut;
    }
  }
}

TEST(Utf8, FailsOnFirstInvalidByte) {
  // Autobahn's incremental check: "edited" + ED A0 80 fails on the A0 (index 7).
  EXPECT_EQ(dfa_first_error("\x65\x64\x69\x74\x65\x64\xED\xA0\x80"), 7u);
  EXPECT_EQ(dfa_first_error("\xF5"), 0u);
  EXPECT_EQ(dfa_first_error("abc\xC0\x80"), 3u);
  Utf8Validator v;
  EXPECT_TRUE(v.feed(reinterpret_cast<const uint8_t*>("\x65\x64\xED"), 3));
  EXPECT_FALSE(v.complete());
  EXPECT_FALSE(v.feed(reinterpret_cast<const uint8_t*>("\xA0\x80"), 2));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed(reinterpret_cast<const uint8_t*>("a"), 1));  // sticky
  EXPECT_FALSE(v.feed(nullptr, 0));
  v.reset();
  EXPECT_TRUE(v.feed(reinterpret_cast<const uint8_t*>("a"), 1));
}

TEST(Utf8, EveryCodePointEncodes) {
  std::string all;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      continue;
    }
    if (cp < 0x80) {
      all.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      all.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      all.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      all.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  EXPECT_TRUE(is_valid_utf8(all));
  for (uint32_t cp = 0xD800; cp <= 0xDFFF; cp += 0x7F) {
    std::string s = {static_cast<char>(0xE0 | (cp >> 12)),
                     static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                     static_cast<char>(0x80 | (cp & 0x3F))};
    EXPECT_FALSE(is_valid_utf8(s));
  }
}

TEST(Utf8, MatchesReferenceOnAllShortSequences) {
  // Every 1- and 2-byte sequence, and every 3-byte sequence with a multi-byte lead.
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(dfa_first_error(s), reference_first_error(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(dfa_first_error(s), reference_first_error(s)) << a << " " << b;
    }
  }
  for (int a = 0xC0; a < 256; ++a) {
    for (int b = 0x70; b < 0xD0; ++b) {
      for (int c = 0x70; c < 0xD0; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), 'x'});
        ASSERT_EQ(dfa_first_error(s), reference_first_error(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, AsciiFastPathAroundMultibyte) {
  // Long ASCII runs with a multi-byte character at every offset, valid and broken.
  for (size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s.insert(at, "\xE2\x82\xAC");
    EXPECT_TRUE(is_valid_utf8(s)) << at;
    s[at + 2] = 'z';
    EXPECT_FALSE(is_valid_utf8(s)) << at;
    EXPECT_EQ(dfa_first_error(s), at + 2);
  }
  std::string high(64, 'a');
  high[63] = '\x80';
  EXPECT_FALSE(is_valid_utf8(high));
}

}  // namespace
}  // namespace herald::ws
