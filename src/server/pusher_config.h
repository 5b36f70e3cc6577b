#pragma once
// The `pusher:` section of the YAML configuration and the --pusher-app flag (docs/PUSHER.md,
// docs/herald.example.yaml). Strict like the rest of the configuration: unknown keys are errors.
// Thread: start-up only.

#include <string>
#include <vector>

#include "herald/pusher_app.h"
#include "herald/result.h"

namespace YAML {
class Node;
}

namespace herald::server {

// pusher: {apps: [{id, key, secret, namespace, client_events, max_presence_members,
// max_event_size, client_event_rate, activity_timeout, allowed_origins, history, webhooks}],
// webhook_tls_ca}
Result<Ok> load_pusher_section(const YAML::Node& node, std::vector<PusherAppOptions>& apps,
                               std::string& webhook_tls_ca);
// "ID:KEY:SECRET" (the secret may hold ':') -> an app with the default options.
Result<PusherAppOptions> parse_pusher_app_flag(const std::string& flag);
// The section as YAML that load_pusher_section reads back (secrets not printed).
std::string describe_pusher(const std::vector<PusherAppOptions>& apps,
                            const std::string& webhook_tls_ca);

}  // namespace herald::server
