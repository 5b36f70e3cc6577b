#include "server/permissions.h"

#include "protocol/channel.h"

namespace herald::server {

std::string_view to_string(Operation op) {
  switch (op) {
    case Operation::kSubscribe:
      return "subscribe";
    case Operation::kPublish:
      return "publish";
    case Operation::kPresence:
      return "presence";
    case Operation::kHistory:
      return "history";
  }
  return "unknown";
}

std::string_view to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::kUserLimited:
      return "user_limited";
    case Refusal::kAnonymous:
      return "anonymous";
    case Refusal::kNotSubscribed:
      return "not_subscribed";
    case Refusal::kNobody:
      return "nobody";
    case Refusal::kTokenRequired:
      return "token_required";
    case Refusal::kChannelToken:
      return "channel_token";
  }
  return "unknown";
}

protocol::ErrorCode error_code(Refusal refusal) {
  return refusal == Refusal::kTokenRequired || refusal == Refusal::kChannelToken
             ? protocol::ErrorCode::kUnauthorized
             : protocol::ErrorCode::kPermissionDenied;
}

std::string_view refusal_message(Operation op, Refusal refusal) {
  switch (refusal) {
    case Refusal::kUserLimited:
      return "permission denied: this channel is limited to the users after its '#'";
    case Refusal::kAnonymous:
      return "permission denied: anonymous clients may not do this in this namespace";
    case Refusal::kNotSubscribed:
      return "permission denied: only subscribers of the channel may do this";
    case Refusal::kNobody:
      switch (op) {
        case Operation::kPublish:
          return "permission denied: clients may not publish in this namespace";
        case Operation::kPresence:
          return "permission denied: clients may not see presence in this namespace";
        case Operation::kHistory:
          return "permission denied: clients may not read history in this namespace";
        case Operation::kSubscribe:
          break;
      }
      return "permission denied";
    case Refusal::kTokenRequired:
      return "unauthorized: this namespace needs a channel token (params.token)";
    case Refusal::kChannelToken:
      return "unauthorized: channel token refused";
  }
  return "permission denied";
}

std::optional<Refusal> check_access(const NamespaceOptions& ns, Operation op,
                                    std::string_view channel, const Requester& who) {
  if (!protocol::user_allowed(channel, who.user)) {
    return Refusal::kUserLimited;
  }
  Access rule = Access::kAnyone;
  switch (op) {
    case Operation::kSubscribe:
      if (who.channel_token) {
        return std::nullopt;  // the backend granted this very subscription
      }
      rule = ns.subscribe;
      break;
    case Operation::kPublish:
      rule = ns.publish;
      break;
    case Operation::kPresence:
      rule = ns.see_presence;
      break;
    case Operation::kHistory:
      rule = ns.read_history;
      break;
  }
  switch (rule) {
    case Access::kAnyone:
      return std::nullopt;
    case Access::kAuthenticated:
      return who.user.empty() ? std::optional(Refusal::kAnonymous) : std::nullopt;
    case Access::kSubscribers:
      return who.subscribed ? std::nullopt : std::optional(Refusal::kNotSubscribed);
    case Access::kToken:
      return Refusal::kTokenRequired;  // a verified token returned above
    case Access::kNone:
      return Refusal::kNobody;
  }
  return Refusal::kNobody;
}

}  // namespace herald::server
