#include "herald/client/handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "base/ascii.h"

namespace herald::client {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, size_t len) {
  std::string out(4 * ((len + 2) / 3), '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

// True when the comma-separated list contains token (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim_ows(list.substr(0, comma));
    if (ascii_iequals(item, token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Parses "8".."15" (optionally quoted); returns 0 when invalid.
int parse_window_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  if (v.empty() || v.size() > 2) {
    return 0;
  }
  int bits = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return 0;
    }
    bits = bits * 10 + (c - '0');
  }
  return (bits >= 8 && bits <= 15 && v.front() != '0') ? bits : 0;
}

}  // namespace

std::string_view to_string(HandshakeError error) {
  switch (error) {
    case HandshakeError::kNone:
      return "ok";
    case HandshakeError::kHeadTooLarge:
      return "response head too large";
    case HandshakeError::kBadStatusLine:
      return "malformed status line";
    case HandshakeError::kNotSwitchingProtocols:
      return "server did not answer 101";
    case HandshakeError::kMalformedHeader:
      return "malformed response header";
    case HandshakeError::kMissingUpgrade:
      return "missing Upgrade: websocket";
    case HandshakeError::kMissingConnection:
      return "missing Connection: upgrade";
    case HandshakeError::kBadAccept:
      return "wrong Sec-WebSocket-Accept";
    case HandshakeError::kUnexpectedExtension:
      return "server chose an extension not offered";
    case HandshakeError::kBadExtensionParams:
      return "invalid permessage-deflate parameters";
    case HandshakeError::kUnexpectedProtocol:
      return "server chose a subprotocol not offered";
  }
  return "unknown handshake error";
}

std::string make_websocket_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    // The key is a nonce against caching proxies, not a secret: a weaker source is acceptable.
    for (size_t i = 0; i < sizeof(raw); ++i) {
      raw[i] = static_cast<unsigned char>(reinterpret_cast<uintptr_t>(&raw) >> (i % 8) ^ i);
    }
  }
  return base64(raw, sizeof(raw));
}

std::string compute_accept_key(std::string_view key) {
  std::string joined;
  joined.reserve(key.size() + kGuid.size());
  joined.append(key);
  joined.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  return base64(digest, sizeof(digest));
}

std::string build_upgrade_request(const ServerUrl& url, std::string_view key,
                                  const UpgradeOptions& options) {
  std::string req;
  req.reserve(256);
  req.append("GET ").append(url.path).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(url.host_header()).append("\r\n");
  req.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
  req.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
  req.append("Sec-WebSocket-Version: 13\r\n");
  if (options.offer_deflate) {
    req.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
  }
  if (!options.origin.empty()) {
    req.append("Origin: ").append(options.origin).append("\r\n");
  }
  req.append("\r\n");
  return req;
}

HandshakeResponseParser::Status HandshakeResponseParser::parse(std::string_view input,
                                                               size_t* consumed) {
  if (error_ != HandshakeError::kNone) {
    *consumed = 0;
    return Status::kError;
  }
  size_t old = head_.size();
  size_t room = kMaxResponseHead - old;
  head_.append(input.substr(0, room));
  size_t from = old >= 3 ? old - 3 : 0;
  size_t end = head_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    *consumed = std::min(input.size(), room);
    if (head_.size() >= kMaxResponseHead) {
      error_ = HandshakeError::kHeadTooLarge;
      return Status::kError;
    }
    return Status::kNeedMore;
  }
  size_t head_len = end + 4;
  *consumed = head_len - old;
  head_.resize(head_len);
  error_ = validate(std::string_view(head_).substr(0, end + 2));
  head_.clear();
  head_.shrink_to_fit();
  return error_ == HandshakeError::kNone ? Status::kDone : Status::kError;
}

HandshakeError HandshakeResponseParser::validate(std::string_view head) {
  size_t eol = head.find("\r\n");
  std::string_view status = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  // "HTTP/1.1 101 Switching Protocols"
  if (status.size() < 12 || status.substr(0, 7) != "HTTP/1." || status[7] < '0' ||
      status[7] > '9' || status[8] != ' ' || (status.size() > 12 && status[12] != ' ')) {
    return HandshakeError::kBadStatusLine;
  }
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (status[i] < '0' || status[i] > '9') {
      return HandshakeError::kBadStatusLine;
    }
    code = code * 10 + (status[i] - '0');
  }
  status_code_ = code;
  if (code != 101) {
    return HandshakeError::kNotSwitchingProtocols;
  }
  bool upgrade = false;
  bool connection = false;
  bool accept = false;
  bool seen_extensions = false;
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return HandshakeError::kMalformedHeader;
    }
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) {
      return HandshakeError::kMalformedHeader;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (ascii_iequals(name, "upgrade")) {
      upgrade = upgrade || has_token(value, "websocket");
    } else if (ascii_iequals(name, "connection")) {
      connection = connection || has_token(value, "upgrade");
    } else if (ascii_iequals(name, "sec-websocket-accept")) {
      if (accept || value != expected_accept_) {
        return HandshakeError::kBadAccept;
      }
      accept = true;
    } else if (ascii_iequals(name, "sec-websocket-extensions")) {
      if (!offered_deflate_ || seen_extensions) {
        return HandshakeError::kUnexpectedExtension;
      }
      seen_extensions = true;
      HandshakeError err = parse_extensions(value);
      if (err != HandshakeError::kNone) {
        return err;
      }
    } else if (ascii_iequals(name, "sec-websocket-protocol")) {
      return HandshakeError::kUnexpectedProtocol;
    }
  }
  if (!upgrade) {
    return HandshakeError::kMissingUpgrade;
  }
  if (!connection) {
    return HandshakeError::kMissingConnection;
  }
  if (!accept) {
    return HandshakeError::kBadAccept;
  }
  return HandshakeError::kNone;
}

// "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
HandshakeError HandshakeResponseParser::parse_extensions(std::string_view value) {
  if (value.find(',') != std::string_view::npos) {
    return HandshakeError::kUnexpectedExtension;  // we offered exactly one
  }
  size_t semi = value.find(';');
  if (!ascii_iequals(trim_ows(value.substr(0, semi)), "permessage-deflate")) {
    return HandshakeError::kUnexpectedExtension;
  }
  DeflateParams params;
  bool seen[4] = {false, false, false, false};
  while (semi != std::string_view::npos) {
    value.remove_prefix(semi + 1);
    semi = value.find(';');
    std::string_view param = trim_ows(value.substr(0, semi));
    size_t eq = param.find('=');
    std::string_view key = trim_ows(param.substr(0, eq));
    std::string_view arg = eq == std::string_view::npos ? "" : trim_ows(param.substr(eq + 1));
    bool has_arg = eq != std::string_view::npos;
    int index;
    if (ascii_iequals(key, "server_no_context_takeover") && !has_arg) {
      index = 0;
      params.server_no_context_takeover = true;
    } else if (ascii_iequals(key, "client_no_context_takeover") && !has_arg) {
      index = 1;
      params.client_no_context_takeover = true;
    } else if (ascii_iequals(key, "server_max_window_bits") && has_arg) {
      index = 2;
      params.server_max_window_bits = parse_window_bits(arg);
    } else if (ascii_iequals(key, "client_max_window_bits") && has_arg) {
      index = 3;
      params.client_max_window_bits = parse_window_bits(arg);
    } else {
      return HandshakeError::kBadExtensionParams;
    }
    if (seen[index] || params.server_max_window_bits == 0 || params.client_max_window_bits == 0) {
      return HandshakeError::kBadExtensionParams;
    }
    seen[index] = true;
  }
  deflate_accepted_ = true;
  deflate_params_ = params;
  return HandshakeError::kNone;
}

}  // namespace herald::client
