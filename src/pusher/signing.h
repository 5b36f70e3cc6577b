#pragma once
// The signatures of the Pusher protocol (docs/PUSHER.md, "Signatures"): HMAC-SHA256 in lowercase
// hex with the app secret over
//  - a channel authorization: "<socket_id>:<channel>" or "<socket_id>:<channel>:<channel_data>",
//    presented as "<key>:<hex>";
//  - a user signin: "<socket_id>::user::<user_data>", presented the same way;
//  - a REST request: "<METHOD>\n<path>\n<sorted query>", the query being every parameter but
//    auth_signature, keys lowercased, sorted, "k=v" joined by '&' (values as decoded).
// Every comparison runs in constant time (CRYPTO_memcmp over equal lengths), so a signature
// cannot be guessed byte by byte from response times. Thread: any.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::pusher {

// HMAC-SHA256(secret, message) as 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);
// MD5 of bytes as 32 lowercase hex digits (REST body_md5).
std::string md5_hex(std::string_view bytes);
// Equal sizes and equal bytes, in time that depends on the size only.
bool equal_constant_time(std::string_view a, std::string_view b);

// Checks "<key>:<hex>" against the app's key and the HMAC of `message`.
bool check_auth(std::string_view key, std::string_view secret, std::string_view message,
                std::string_view auth);

// The message a channel authorization signs.
std::string channel_auth_message(std::string_view socket_id, std::string_view channel,
                                 std::string_view channel_data);
// The message a user signin signs.
std::string signin_message(std::string_view socket_id, std::string_view user_data);

// What a REST request's signature check found.
enum class RequestAuth : uint8_t {
  kOk,
  kMissingParameter,  // auth_key, auth_timestamp, auth_version or auth_signature absent
  kUnknownKey,        // auth_key is not the app's key
  kBadVersion,        // auth_version is not 1.0
  kStaleTimestamp,    // auth_timestamp more than 600 s from now (or not a number)
  kBadBodyMd5,        // a body without body_md5, or body_md5 not the body's MD5
  kBadSignature,      // auth_signature is not the HMAC of the request
};
std::string_view describe(RequestAuth result);

inline constexpr int64_t kMaxClockSkewS = 600;

struct SignedRequest {
  std::string_view method;  // "GET", "POST"
  std::string_view path;    // "/apps/1/events"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in URL order
  std::string_view body;
};

RequestAuth check_request(const SignedRequest& req, std::string_view key, std::string_view secret,
                          int64_t now_s);

// The query string a client signs for (method, path, params): what the server checks. For tests
// and the fuzzer: sign_request(...) + check_request(...) must agree.
std::string request_signature(std::string_view secret, std::string_view method,
                              std::string_view path,
                              std::vector<std::pair<std::string, std::string>> query);

}  // namespace herald::pusher
