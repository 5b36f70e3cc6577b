#include "ws/handshake.h"

#include "base/ascii.h"

// The one-shot SHA1() of OpenSSL 3 fetches a digest from the provider machinery on first use,
// which faults in ~2 MiB of libcrypto per process; the low-level SHA1_Init/Update/Final (kept,
// though deprecated) compute the same digest directly for ~0.3 MiB. Measured with RssFile.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace herald::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes encode to 22 base64 characters and "==".
bool is_valid_key(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') {
    return false;
  }
  for (size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) {
      return false;
    }
  }
  return true;
}

size_t count_headers(const http::Request& r, std::string_view name) {
  size_t n = 0;
  for (size_t i = 0; i < r.header_count; ++i) {
    n += ascii_iequals(r.headers[i].name, name) ? 1 : 0;
  }
  return n;
}

// A list header may arrive on several lines; its value is their comma-joined values.
// True if the comma-separated list holds token (subprotocol names are case-sensitive tokens).
bool request_lists_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim_ows(list.substr(0, comma));
    if (item == token) {
      return true;
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

std::string joined_header(const http::Request& r, std::string_view name) {
  std::string out;
  for (size_t i = 0; i < r.header_count; ++i) {
    if (ascii_iequals(r.headers[i].name, name)) {
      if (!out.empty()) {
        out += ", ";
      }
      out += r.headers[i].value;
    }
  }
  return out;
}

Handshake reject(HandshakeError error) {
  Handshake h;
  h.error = error;
  std::string_view status_line = "400 Bad Request";
  std::string_view extra;
  switch (error) {
    case HandshakeError::kNotGet:
      h.status = 405;
      status_line = "405 Method Not Allowed";
      extra = "Allow: GET\r\n";
      break;
    case HandshakeError::kNoUpgradeHeader:
      h.status = 426;
      status_line = "426 Upgrade Required";
      extra = "Upgrade: websocket\r\n";
      break;
    case HandshakeError::kBadVersion:
      h.status = 426;
      status_line = "426 Upgrade Required";
      extra = "Sec-WebSocket-Version: 13\r\n";
      break;
    default:
      h.status = 400;
      break;
  }
  std::string body = "websocket handshake failed: ";
  body += to_string(error);
  body += '\n';
  h.response.reserve(160 + body.size());
  h.response += "HTTP/1.1 ";
  h.response += status_line;
  h.response += "\r\nConnection: close\r\nContent-Type: text/plain\r\n";
  h.response += extra;
  h.response += "Content-Length: ";
  h.response += std::to_string(body.size());
  h.response += "\r\n\r\n";
  h.response += body;
  return h;
}

}  // namespace

std::string_view to_string(HandshakeError error) {
  switch (error) {
    case HandshakeError::kNone:
      return "none";
    case HandshakeError::kNotGet:
      return "method is not GET";
    case HandshakeError::kBadHttpVersion:
      return "HTTP/1.1 required";
    case HandshakeError::kNoHost:
      return "missing Host";
    case HandshakeError::kNoUpgradeHeader:
      return "missing Upgrade: websocket";
    case HandshakeError::kNoConnectionUpgrade:
      return "missing Connection: Upgrade";
    case HandshakeError::kBadVersion:
      return "Sec-WebSocket-Version must be 13";
    case HandshakeError::kBadKey:
      return "missing or invalid Sec-WebSocket-Key";
  }
  return "unknown";
}

std::string compute_accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kGuid.size());
  input.append(key).append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA_CTX sha;
  SHA1_Init(&sha);
  SHA1_Update(&sha, input.data(), input.size());
  SHA1_Final(digest, &sha);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(n));
}

bool is_websocket_upgrade(const http::Request& request) {
  return request.method == http::Method::kGet && request.header_has_token("Upgrade", "websocket");
}

Handshake accept_upgrade(const http::Request& request, const HandshakeConfig& config) {
  if (request.method != http::Method::kGet) {
    return reject(HandshakeError::kNotGet);
  }
  if (request.version_minor < 1) {
    return reject(HandshakeError::kBadHttpVersion);
  }
  if (request.header("Host").empty()) {
    return reject(HandshakeError::kNoHost);
  }
  if (!request.header_has_token("Upgrade", "websocket")) {
    return reject(HandshakeError::kNoUpgradeHeader);
  }
  if (!request.header_has_token("Connection", "upgrade")) {
    return reject(HandshakeError::kNoConnectionUpgrade);
  }
  if (request.header("Sec-WebSocket-Version") != "13") {
    return reject(HandshakeError::kBadVersion);
  }
  std::string_view key = request.header("Sec-WebSocket-Key");
  if (count_headers(request, "Sec-WebSocket-Key") != 1 || !is_valid_key(key)) {
    return reject(HandshakeError::kBadKey);
  }

  Handshake h;
  std::string extension;
  if (config.deflate.enabled) {
    std::string offers = joined_header(request, "Sec-WebSocket-Extensions");
    if (!offers.empty()) {
      h.deflate = negotiate_permessage_deflate(offers, config.deflate, extension);
    }
  }
  std::string offered = joined_header(request, "Sec-WebSocket-Protocol");
  for (std::string_view mine : config.subprotocols) {
    if (!offered.empty() && request_lists_token(offered, mine)) {
      h.subprotocol = mine;
      break;
    }
  }
  h.response.reserve(160 + extension.size());
  h.response +=
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  h.response += compute_accept_key(key);
  h.response += "\r\n";
  if (!h.subprotocol.empty()) {
    h.response += "Sec-WebSocket-Protocol: ";
    h.response += h.subprotocol;
    h.response += "\r\n";
  }
  if (h.deflate) {
    h.response += "Sec-WebSocket-Extensions: ";
    h.response += extension;
    h.response += "\r\n";
  }
  h.response += "\r\n";
  return h;
}

}  // namespace herald::ws
