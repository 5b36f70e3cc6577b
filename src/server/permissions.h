#pragma once
// Permissions of channel commands: what a namespace allows (NamespaceOptions::subscribe,
// publish, see_presence, read_history) and user-limited channels ("dialogs:#42,43": only users
// 42 and 43). Pure decisions, no state: the protocol handler asks, answers the refusal with its
// documented error and counts it by operation and reason (herald_permission_refusals_total).
// Channel tokens are verified by the caller; here a verified one only counts as a grant.
// Thread: any (pure functions).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "herald/namespace_options.h"
#include "protocol/errors.h"

namespace herald::server {

// What a client asks to do in a channel.
enum class Operation : uint8_t {
  kSubscribe,
  kPublish,
  kPresence,  // presence and presence_stats
  kHistory,
};

inline constexpr Operation kAllOperations[] = {Operation::kSubscribe, Operation::kPublish,
                                               Operation::kPresence, Operation::kHistory};

// Why a channel command was refused.
enum class Refusal : uint8_t {
  kUserLimited,    // a user-limited channel that does not list the user (anonymous included)
  kAnonymous,      // the namespace says `authenticated` and the client has no user id
  kNotSubscribed,  // the namespace says `subscribers` and the client is not subscribed
  kNobody,         // the namespace says `none`
  kTokenRequired,  // subscribe: the namespace says `token` and no channel token was given
  kChannelToken,   // subscribe: the channel token given was refused (counted by its reason in
                   // herald_token_refusals_total too)
};

inline constexpr Refusal kAllRefusals[] = {Refusal::kUserLimited,   Refusal::kAnonymous,
                                           Refusal::kNotSubscribed, Refusal::kNobody,
                                           Refusal::kTokenRequired, Refusal::kChannelToken};

// Metric labels: "subscribe", "presence"...; "user_limited", "token_required"...
std::string_view to_string(Operation op);
std::string_view to_string(Refusal refusal);

// The error a refusal is answered with: 120 unauthorized for a missing token, 111
// permission_denied for the others (a refused channel token's code depends on its reason and
// is chosen by the caller: 122 when expired, else 120).
protocol::ErrorCode error_code(Refusal refusal);
// The message of that error, e.g. "permission denied: clients may not publish in this namespace".
std::string_view refusal_message(Operation op, Refusal refusal);

// Who asks.
struct Requester {
  std::string_view user;       // "" = anonymous
  bool subscribed = false;     // to this channel (publish, presence, history)
  bool channel_token = false;  // subscribe: a verified channel token for this channel and client
};

// The refusal of `op` on `channel` under the namespace `ns`, or nullopt when it is allowed. A
// user-limited channel is checked first and always (a channel token for it does not override
// its list); then the namespace's rule for the operation. A verified channel token grants
// subscribe whatever the rule. Unsubscribe is never refused.
std::optional<Refusal> check_access(const NamespaceOptions& ns, Operation op,
                                    std::string_view channel, const Requester& who);

}  // namespace herald::server
