#pragma once
// base64url (RFC 4648 section 5) without padding, as JWS compact serialization uses it
// (RFC 7515 section 2). Decoding is strict: no '=', no whitespace, nothing outside the
// alphabet, and the unused low bits of the last character must be zero, so every byte string
// has exactly one accepted encoding (a token cannot be altered without changing its bytes).
// Free functions, no state. Thread: any.

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::auth {

// Largest number of bytes base64url_decode() can write for `encoded_size` input characters.
constexpr size_t base64url_decoded_max(size_t encoded_size) {
  return encoded_size / 4 * 3 + 2;
}

// Appends the unpadded base64url encoding of `bytes` to `out`.
void append_base64url(std::string& out, std::string_view bytes);

// Decodes `encoded` into out[0..out_size); out must have room for
// base64url_decoded_max(encoded.size()) bytes. Returns false (out_size unspecified) when the
// input is not canonical unpadded base64url. Never reads or writes out of bounds.
bool base64url_decode(std::string_view encoded, char* out, size_t& out_size);

}  // namespace herald::auth
