#pragma once
// The Herald protocol's error, disconnect and unsubscribe codes (docs/PROTOCOL.md, "Errors").
// The numbers are part of protocol v1: never renumber, only add. Every value here is listed in
// the doc's tables and a unit test reads those tables back, so the two cannot drift apart.
// Thread: any (pure functions).

#include <cstdint>
#include <string_view>

namespace herald::protocol {

// Error codes of replies ({"id":N,"error":{...}}) and of server API responses.
// 100-199: the request is at fault; repeating it unchanged fails the same way (except 113).
// 500-599: temporary server-side failures; the same request may succeed after a backoff.
enum class ErrorCode : uint16_t {
  kBadRequest = 100,             // not valid JSON, not an object, or malformed otherwise
  kUnknownMethod = 101,          // "method" (or /api/<method>) names no method
  kMissingField = 102,           // a required field is absent
  kWrongType = 103,              // a field has the wrong JSON type or an out-of-range value
  kInvalidChannel = 104,         // channel name empty, too long, or with a forbidden byte
  kTooLarge = 105,               // data, a string field, a command line, frame or body too big
  kAlreadySubscribed = 106,      // subscribe to a channel this connection is subscribed to
  kNotSubscribed = 107,          // unsubscribe from a channel this connection is not in
  kNotConnected = 108,           // a command before a successful connect
  kAlreadyConnected = 109,       // a second connect on one connection
  kLimitExceeded = 110,          // a configured limit (subscriptions, commands per frame...)
  kPermissionDenied = 111,       // the namespace or credentials forbid this operation
  kUnrecoverablePosition = 112,  // history "since" is from another epoch or out of the window
  kTooManyRequests = 113,        // rate limit hit; retry after a backoff (temporary)
  kDuplicateField = 114,         // a known field appears twice in one object
  kTooDeep = 115,                // JSON nested deeper than the limit
  kInvalidUtf8 = 116,            // the text is not valid UTF-8
  kInvalidNumber = 117,          // a number is malformed or fits neither 64-bit int nor double
  kUnknownNamespace = 118,       // the channel's namespace is not configured
  kNotAvailable = 119,           // the feature (history, presence...) is off for the namespace
  kUnauthorized = 120,           // missing or invalid token / API key
  kUnsupportedProtocol = 121,    // connect asked for a protocol version this server lacks
  kTokenExpired = 122,           // a channel token (subscribe) or refresh token has expired
  kInternal = 500,               // server bug or unexpected failure (temporary)
  kUnavailable = 501,            // storage or broker unavailable (temporary)
  kTimeout = 502,                // the operation timed out; its outcome is unknown (temporary)
  kOverloaded = 503,             // server overloaded (temporary)
  kShuttingDown = 504,           // server draining; retry on a new connection (temporary)
};

inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kBadRequest,
    ErrorCode::kUnknownMethod,
    ErrorCode::kMissingField,
    ErrorCode::kWrongType,
    ErrorCode::kInvalidChannel,
    ErrorCode::kTooLarge,
    ErrorCode::kAlreadySubscribed,
    ErrorCode::kNotSubscribed,
    ErrorCode::kNotConnected,
    ErrorCode::kAlreadyConnected,
    ErrorCode::kLimitExceeded,
    ErrorCode::kPermissionDenied,
    ErrorCode::kUnrecoverablePosition,
    ErrorCode::kTooManyRequests,
    ErrorCode::kDuplicateField,
    ErrorCode::kTooDeep,
    ErrorCode::kInvalidUtf8,
    ErrorCode::kInvalidNumber,
    ErrorCode::kUnknownNamespace,
    ErrorCode::kNotAvailable,
    ErrorCode::kUnauthorized,
    ErrorCode::kUnsupportedProtocol,
    ErrorCode::kTokenExpired,
    ErrorCode::kInternal,
    ErrorCode::kUnavailable,
    ErrorCode::kTimeout,
    ErrorCode::kOverloaded,
    ErrorCode::kShuttingDown,
};

inline uint16_t code_value(ErrorCode c) {
  return static_cast<uint16_t>(c);
}

// The default human-readable message ("bad request"), used when a reply gives no better one.
std::string_view error_message(ErrorCode code);
// The stable snake_case name used in the doc's table ("bad_request").
std::string_view error_name(ErrorCode code);
// True if repeating the same request later may succeed (113 and 500-599).
bool is_temporary(ErrorCode code);
// The HTTP status the server API answers with for this error.
int http_status(ErrorCode code);

// WebSocket close codes (and the "code" of a disconnect push). Clients reconnect with backoff
// after any code outside 4500-4999 and never reconnect by themselves after one inside it.
enum class DisconnectCode : uint16_t {
  kGoingAway = 1001,            // server shutting down; reconnect (maybe to another node)
  kTryAgainLater = 1013,        // server overloaded; reconnect after a longer backoff
  kReconnect = 4000,            // generic "reconnect"
  kNoPong = 4001,               // keepalive answer missing; the link is probably dead
  kSlow = 4002,                 // output queue over its cap: the client reads too slowly
  kInsufficientState = 4003,    // the server lost this connection's state; resubscribe/recover
  kTokenExpired = 4004,         // the connection token expired; reconnect with a fresh one
  kForceReconnect = 4005,       // asked by an operator or the server API
  kServerError = 4006,          // an internal error broke this connection
  kBadRequest = 4500,           // the client broke the protocol beyond a per-command error
  kInvalidToken = 4501,         // the token can never be accepted
  kForbidden = 4502,            // the user may not connect
  kForceDisconnect = 4503,      // the user was disconnected by the server API
  kConnectionLimit = 4504,      // too many connections for this user
  kUnsupportedProtocol = 4505,  // the client speaks a protocol version this server lacks
};

inline constexpr DisconnectCode kAllDisconnectCodes[] = {
    DisconnectCode::kGoingAway,
    DisconnectCode::kTryAgainLater,
    DisconnectCode::kReconnect,
    DisconnectCode::kNoPong,
    DisconnectCode::kSlow,
    DisconnectCode::kInsufficientState,
    DisconnectCode::kTokenExpired,
    DisconnectCode::kForceReconnect,
    DisconnectCode::kServerError,
    DisconnectCode::kBadRequest,
    DisconnectCode::kInvalidToken,
    DisconnectCode::kForbidden,
    DisconnectCode::kForceDisconnect,
    DisconnectCode::kConnectionLimit,
    DisconnectCode::kUnsupportedProtocol,
};

// Default close reason ("force disconnect"); at most 123 bytes so it fits a close frame.
std::string_view disconnect_reason(DisconnectCode code);
// False for 4500-4999: the client must not reconnect by itself.
bool should_reconnect(uint16_t code);

// Codes of an unsubscribe push: 2000-2499 resubscribe (with recovery), 2500-2999 do not.
enum class UnsubscribeCode : uint16_t {
  kResubscribe = 2000,        // the server lost the subscription's state; resubscribe with since
  kServerUnsubscribe = 2500,  // unsubscribed by the server API or an operator
  kPermissionRevoked = 2501,  // the user may no longer read the channel
  kChannelClosed = 2502,      // the namespace or channel was removed from the configuration
};

inline constexpr UnsubscribeCode kAllUnsubscribeCodes[] = {
    UnsubscribeCode::kResubscribe,
    UnsubscribeCode::kServerUnsubscribe,
    UnsubscribeCode::kPermissionRevoked,
    UnsubscribeCode::kChannelClosed,
};

std::string_view unsubscribe_reason(UnsubscribeCode code);
// True for 2000-2499.
bool should_resubscribe(uint16_t code);

}  // namespace herald::protocol
