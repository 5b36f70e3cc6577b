#include "protocol/errors.h"

namespace herald::protocol {

namespace {

struct ErrorInfo {
  std::string_view name;
  std::string_view message;
  int http;
};

ErrorInfo info(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return {"bad_request", "bad request", 400};
    case ErrorCode::kUnknownMethod:
      return {"unknown_method", "unknown method", 404};
    case ErrorCode::kMissingField:
      return {"missing_field", "missing field", 400};
    case ErrorCode::kWrongType:
      return {"wrong_type", "wrong type or value", 400};
    case ErrorCode::kInvalidChannel:
      return {"invalid_channel", "invalid channel name", 400};
    case ErrorCode::kTooLarge:
      return {"too_large", "too large", 413};
    case ErrorCode::kAlreadySubscribed:
      return {"already_subscribed", "already subscribed", 400};
    case ErrorCode::kNotSubscribed:
      return {"not_subscribed", "not subscribed", 400};
    case ErrorCode::kNotConnected:
      return {"not_connected", "not connected", 400};
    case ErrorCode::kAlreadyConnected:
      return {"already_connected", "already connected", 400};
    case ErrorCode::kLimitExceeded:
      return {"limit_exceeded", "limit exceeded", 400};
    case ErrorCode::kPermissionDenied:
      return {"permission_denied", "permission denied", 403};
    case ErrorCode::kUnrecoverablePosition:
      return {"unrecoverable_position", "unrecoverable position", 409};
    case ErrorCode::kTooManyRequests:
      return {"too_many_requests", "too many requests", 429};
    case ErrorCode::kDuplicateField:
      return {"duplicate_field", "duplicate field", 400};
    case ErrorCode::kTooDeep:
      return {"too_deep", "nested too deep", 400};
    case ErrorCode::kInvalidUtf8:
      return {"invalid_utf8", "invalid UTF-8", 400};
    case ErrorCode::kInvalidNumber:
      return {"invalid_number", "invalid number", 400};
    case ErrorCode::kUnknownNamespace:
      return {"unknown_namespace", "unknown namespace", 400};
    case ErrorCode::kNotAvailable:
      return {"not_available", "not available", 400};
    case ErrorCode::kUnauthorized:
      return {"unauthorized", "unauthorized", 401};
    case ErrorCode::kUnsupportedProtocol:
      return {"unsupported_protocol", "unsupported protocol version", 400};
    case ErrorCode::kTokenExpired:
      return {"token_expired", "token expired", 401};
    case ErrorCode::kInternal:
      return {"internal", "internal error", 500};
    case ErrorCode::kUnavailable:
      return {"unavailable", "unavailable", 503};
    case ErrorCode::kTimeout:
      return {"timeout", "timeout", 504};
    case ErrorCode::kOverloaded:
      return {"overloaded", "overloaded", 503};
    case ErrorCode::kShuttingDown:
      return {"shutting_down", "shutting down", 503};
  }
  return {"internal", "internal error", 500};
}

}  // namespace

std::string_view error_message(ErrorCode code) {
  return info(code).message;
}

std::string_view error_name(ErrorCode code) {
  return info(code).name;
}

bool is_temporary(ErrorCode code) {
  uint16_t v = code_value(code);
  return code == ErrorCode::kTooManyRequests || (v >= 500 && v <= 599);
}

int http_status(ErrorCode code) {
  return info(code).http;
}

std::string_view disconnect_reason(DisconnectCode code) {
  switch (code) {
    case DisconnectCode::kGoingAway:
      return "going away";
    case DisconnectCode::kTryAgainLater:
      return "try again later";
    case DisconnectCode::kReconnect:
      return "reconnect";
    case DisconnectCode::kNoPong:
      return "no pong";
    case DisconnectCode::kSlow:
      return "slow";
    case DisconnectCode::kInsufficientState:
      return "insufficient state";
    case DisconnectCode::kTokenExpired:
      return "token expired";
    case DisconnectCode::kForceReconnect:
      return "force reconnect";
    case DisconnectCode::kServerError:
      return "server error";
    case DisconnectCode::kBadRequest:
      return "bad request";
    case DisconnectCode::kInvalidToken:
      return "invalid token";
    case DisconnectCode::kForbidden:
      return "forbidden";
    case DisconnectCode::kForceDisconnect:
      return "force disconnect";
    case DisconnectCode::kConnectionLimit:
      return "connection limit";
    case DisconnectCode::kUnsupportedProtocol:
      return "unsupported protocol version";
  }
  return "reconnect";
}

bool should_reconnect(uint16_t code) {
  return code < 4500 || code > 4999;
}

std::string_view unsubscribe_reason(UnsubscribeCode code) {
  switch (code) {
    case UnsubscribeCode::kResubscribe:
      return "resubscribe";
    case UnsubscribeCode::kServerUnsubscribe:
      return "server unsubscribe";
    case UnsubscribeCode::kPermissionRevoked:
      return "permission revoked";
    case UnsubscribeCode::kChannelClosed:
      return "channel closed";
  }
  return "server unsubscribe";
}

bool should_resubscribe(uint16_t code) {
  return code >= 2000 && code <= 2499;
}

}  // namespace herald::protocol
