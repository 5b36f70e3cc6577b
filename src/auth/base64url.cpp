#include "auth/base64url.h"

#include <array>
#include <cstdint>

namespace herald::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

// Byte -> 6-bit value, kInvalid outside the alphabet. Built at compile time so decoding is one
// table load per character.
constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) {
    v = kInvalid;
  }
  for (uint8_t i = 0; i < 64; ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = i;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

uint32_t sextet(char c) {
  return kDecode[static_cast<uint8_t>(c)];
}

}  // namespace

void append_base64url(std::string& out, std::string_view bytes) {
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  size_t pos = out.size();
  out.resize(pos + (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1));
  char* dst = out.data() + pos;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *dst++ = kAlphabet[(v >> 18) & 63];
    *dst++ = kAlphabet[(v >> 12) & 63];
    *dst++ = kAlphabet[(v >> 6) & 63];
    *dst++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    *dst++ = kAlphabet[(v >> 18) & 63];
    *dst++ = kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    *dst++ = kAlphabet[(v >> 18) & 63];
    *dst++ = kAlphabet[(v >> 12) & 63];
    *dst++ = kAlphabet[(v >> 6) & 63];
  }
}

bool base64url_decode(std::string_view encoded, char* out, size_t& out_size) {
  const char* in = encoded.data();
  size_t n = encoded.size();
  // One leftover character holds only 6 bits: no byte string encodes to that length.
  if (n % 4 == 1) {
    return false;
  }
  auto* dst = reinterpret_cast<uint8_t*>(out);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t a = sextet(in[i]);
    uint32_t b = sextet(in[i + 1]);
    uint32_t c = sextet(in[i + 2]);
    uint32_t d = sextet(in[i + 3]);
    // kInvalid has bit 7 set and valid values never do: one test for the four characters.
    if (((a | b | c | d) & 0x80) != 0) {
      return false;
    }
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *dst++ = static_cast<uint8_t>(v >> 16);
    *dst++ = static_cast<uint8_t>(v >> 8);
    *dst++ = static_cast<uint8_t>(v);
  }
  size_t rest = n - i;
  if (rest >= 2) {
    uint32_t a = sextet(in[i]);
    uint32_t b = sextet(in[i + 1]);
    uint32_t c = rest == 3 ? sextet(in[i + 2]) : 0;
    if (((a | b | c) & 0x80) != 0) {
      return false;
    }
    uint32_t v = (a << 18) | (b << 12) | (c << 6);
    // The bits below the last whole byte must be zero (RFC 4648 section 3.5 lets decoders
    // reject otherwise; we do, so that the encoding is unique).
    uint32_t unused = rest == 2 ? (v & 0xFFFF) : (v & 0xFF);
    if (unused != 0) {
      return false;
    }
    *dst++ = static_cast<uint8_t>(v >> 16);
    if (rest == 3) {
      *dst++ = static_cast<uint8_t>(v >> 8);
    }
  }
  out_size = static_cast<size_t>(dst - reinterpret_cast<uint8_t*>(out));
  return true;
}

}  // namespace herald::auth
