#include "pusher/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>

#include <algorithm>
#include <charconv>
#include <cctype>

namespace herald::pusher {
namespace {

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

const std::string* find(const std::vector<std::pair<std::string, std::string>>& query,
                        std::string_view name) {
  for (const auto& [k, v] : query) {
    if (k == name) {
      return &v;
    }
  }
  return nullptr;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return hex(mac, len);
}

std::string md5_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr);
  return hex(digest, len);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool check_auth(std::string_view key, std::string_view secret, std::string_view message,
                std::string_view auth) {
  size_t colon = auth.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  bool key_ok = equal_constant_time(auth.substr(0, colon), key);
  bool sig_ok = equal_constant_time(auth.substr(colon + 1), hmac_sha256_hex(secret, message));
  return key_ok && sig_ok;
}

std::string channel_auth_message(std::string_view socket_id, std::string_view channel,
                                 std::string_view channel_data) {
  std::string m;
  m.reserve(socket_id.size() + channel.size() + channel_data.size() + 2);
  m.append(socket_id).append(":").append(channel);
  if (!channel_data.empty()) {
    m.append(":").append(channel_data);
  }
  return m;
}

std::string signin_message(std::string_view socket_id, std::string_view user_data) {
  std::string m(socket_id);
  m.append("::user::").append(user_data);
  return m;
}

std::string_view describe(RequestAuth result) {
  switch (result) {
    case RequestAuth::kOk:
      return "ok";
    case RequestAuth::kMissingParameter:
      return "auth_key, auth_timestamp, auth_version and auth_signature are required";
    case RequestAuth::kUnknownKey:
      return "auth_key is not this app's key";
    case RequestAuth::kBadVersion:
      return "auth_version must be 1.0";
    case RequestAuth::kStaleTimestamp:
      return "auth_timestamp is more than 600 s away from the server's clock";
    case RequestAuth::kBadBodyMd5:
      return "body_md5 does not match the body";
    case RequestAuth::kBadSignature:
      return "invalid signature";
  }
  return "invalid request";
}

std::string request_signature(std::string_view secret, std::string_view method,
                              std::string_view path,
                              std::vector<std::pair<std::string, std::string>> query) {
  std::vector<std::pair<std::string, std::string>> params;
  params.reserve(query.size());
  for (auto& [k, v] : query) {
    if (k != "auth_signature") {
      params.emplace_back(lower(k), std::move(v));
    }
  }
  std::sort(params.begin(), params.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string to_sign(method);
  to_sign.push_back('\n');
  to_sign.append(path);
  to_sign.push_back('\n');
  for (size_t i = 0; i < params.size(); ++i) {
    if (i != 0) {
      to_sign.push_back('&');
    }
    to_sign.append(params[i].first).append("=").append(params[i].second);
  }
  return hmac_sha256_hex(secret, to_sign);
}

RequestAuth check_request(const SignedRequest& req, std::string_view key, std::string_view secret,
                          int64_t now_s) {
  const std::string* auth_key = find(req.query, "auth_key");
  const std::string* timestamp = find(req.query, "auth_timestamp");
  const std::string* version = find(req.query, "auth_version");
  const std::string* signature = find(req.query, "auth_signature");
  if (auth_key == nullptr || timestamp == nullptr || version == nullptr || signature == nullptr) {
    return RequestAuth::kMissingParameter;
  }
  if (!equal_constant_time(*auth_key, key)) {
    return RequestAuth::kUnknownKey;
  }
  if (*version != "1.0") {
    return RequestAuth::kBadVersion;
  }
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), ts);
  if (ec != std::errc{} || end != timestamp->data() + timestamp->size() ||
      ts < now_s - kMaxClockSkewS || ts > now_s + kMaxClockSkewS) {
    return RequestAuth::kStaleTimestamp;
  }
  // The signature first: only a signed request learns whether its body matched.
  std::string expected = request_signature(secret, req.method, req.path, req.query);
  if (!equal_constant_time(*signature, expected)) {
    return RequestAuth::kBadSignature;
  }
  const std::string* body_md5 = find(req.query, "body_md5");
  if (!req.body.empty() || body_md5 != nullptr) {
    if (body_md5 == nullptr || !equal_constant_time(*body_md5, md5_hex(req.body))) {
      return RequestAuth::kBadBodyMd5;
    }
  }
  return RequestAuth::kOk;
}

}  // namespace herald::pusher
