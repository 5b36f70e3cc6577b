#pragma once
// The server side of the WebSocket opening handshake (RFC 6455 4.2) on top of a parsed HTTP
// request: validation, Sec-WebSocket-Accept, permessage-deflate negotiation, and the bytes of
// the response (101 or an error). Thread: any (pure functions).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "ws/deflate.h"

namespace herald::ws {

struct HandshakeConfig {
  DeflateConfig deflate;
  // Subprotocols this route speaks, in the server's order of preference (RFC 6455 4.2.2): the
  // first one the client offers in Sec-WebSocket-Protocol is selected and echoed. None offered,
  // or none in common: no Sec-WebSocket-Protocol in the answer (a client that insisted on one
  // then fails the connection itself, as browsers do).
  std::vector<std::string_view> subprotocols;
};

enum class HandshakeError : uint8_t {
  kNone,
  kNotGet,               // method is not GET (405)
  kBadHttpVersion,       // not HTTP/1.1 (400)
  kNoHost,               // no Host header (400)
  kNoUpgradeHeader,      // no "websocket" token in Upgrade (426, Upgrade: websocket)
  kNoConnectionUpgrade,  // no "upgrade" token in Connection (400)
  kBadVersion,           // Sec-WebSocket-Version missing or not 13 (426 + supported version)
  kBadKey,               // Sec-WebSocket-Key missing, repeated or not base64 of 16 bytes (400)
};

std::string_view to_string(HandshakeError error);

struct Handshake {
  HandshakeError error = HandshakeError::kNone;
  int status = 101;
  std::optional<DeflateParams> deflate;  // set when permessage-deflate was agreed
  std::string_view subprotocol;  // the one selected (a view into HandshakeConfig), or empty
  std::string response;  // full HTTP response bytes: the 101 head, or a complete error response
};

// Validates an upgrade request and builds the response. An error response carries
// "Connection: close"; the caller sends it and closes.
Handshake accept_upgrade(const http::Request& request, const HandshakeConfig& config);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455 1.3.
std::string compute_accept_key(std::string_view key);

// Cheap routing test: a GET whose Upgrade header names websocket.
bool is_websocket_upgrade(const http::Request& request);

}  // namespace herald::ws
