#pragma once
// The client half of the RFC 6455 opening handshake: the upgrade request it sends and the
// validation of the server's 101 response (status, Upgrade, Connection, Sec-WebSocket-Accept,
// and the permessage-deflate parameters of RFC 7692 when they were offered).

#include <cstdint>
#include <string>
#include <string_view>

#include "herald/client/url.h"

namespace herald::client {

// Why a server's handshake response was rejected.
enum class HandshakeError : uint8_t {
  kNone = 0,
  kHeadTooLarge,           // no blank line within kMaxResponseHead bytes
  kBadStatusLine,          // not "HTTP/1.x NNN reason"
  kNotSwitchingProtocols,  // a status other than 101 (status_code() says which)
  kMalformedHeader,        // header line without ':', bad name characters, obs-fold
  kMissingUpgrade,         // no "Upgrade: websocket"
  kMissingConnection,      // no "upgrade" token in Connection
  kBadAccept,              // Sec-WebSocket-Accept missing or not SHA-1(key + GUID)
  kUnexpectedExtension,    // an extension the client did not offer
  kBadExtensionParams,     // permessage-deflate parameters that RFC 7692 forbids
  kUnexpectedProtocol,     // a subprotocol the client did not offer
};
std::string_view to_string(HandshakeError error);

// Negotiated permessage-deflate parameters (RFC 7692 section 7.1).
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

struct UpgradeOptions {
  bool offer_deflate = false;
  std::string origin;  // sent as Origin when not empty
};

// 16 random bytes, base64: the Sec-WebSocket-Key.
std::string make_websocket_key();
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string compute_accept_key(std::string_view key);
std::string build_upgrade_request(const ServerUrl& url, std::string_view key,
                                  const UpgradeOptions& options);

constexpr size_t kMaxResponseHead = 16 * 1024;

// Accumulates the server's response head and validates it once the blank line arrives.
// Owned by one Connection until the handshake is over. Thread: the connection's loop only.
class HandshakeResponseParser {
 public:
  enum class Status : uint8_t { kNeedMore, kDone, kError };

  HandshakeResponseParser(std::string expected_accept, bool offered_deflate)
      : expected_accept_(std::move(expected_accept)), offered_deflate_(offered_deflate) {}

  // Consumes bytes up to and including the end of the head (*consumed); bytes after it are
  // already WebSocket frames and belong to the caller.
  Status parse(std::string_view input, size_t* consumed);

  HandshakeError error() const { return error_; }
  int status_code() const { return status_code_; }
  bool deflate_accepted() const { return deflate_accepted_; }
  const DeflateParams& deflate_params() const { return deflate_params_; }

 private:
  HandshakeError validate(std::string_view head);
  HandshakeError parse_extensions(std::string_view value);

  std::string expected_accept_;
  bool offered_deflate_;
  std::string head_;
  HandshakeError error_ = HandshakeError::kNone;
  int status_code_ = 0;
  bool deflate_accepted_ = false;
  DeflateParams deflate_params_;
};

}  // namespace herald::client
