#pragma once
// One application of the Pusher-compatible protocol (docs/PUSHER.md): the credentials its
// clients and backend use, and its own limits. A server serves any number of them; each one's
// channels live in a Herald namespace of their own, so Herald's API and clients reach them too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace herald {

struct PusherAppOptions {
  std::string id;      // the app_id of the REST API (/apps/{id}/...)
  std::string key;     // the public key in the WebSocket URL (/app/{key}) and in signatures
  std::string secret;  // signs channel authorizations, signins and REST requests; never sent
  // The Herald namespace of the app's channels ("" = "pusher-<id>"): Pusher channel `c` is the
  // Herald channel `<namespace>:c`.
  std::string channel_namespace;
  bool client_events = true;        // client-* events on private and presence channels
  size_t max_presence_members = 100;  // distinct users per presence channel (Pusher's limit)
  size_t max_event_size = 10 * 1024;  // bytes of one event's data (client events and REST)
  double client_event_rate = 10;      // client events a second per connection (burst 2x): 4301
  uint32_t activity_timeout_s = 120;  // told to clients: they ping after this much silence
  // Origins allowed to open a connection (as ServerOptions::allowed_origins); empty: any.
  std::vector<std::string> allowed_origins;
};

}  // namespace herald
