#pragma once
// One application of the Pusher-compatible protocol (docs/PUSHER.md): the credentials its
// clients and backend use, and its own limits. A server serves any number of them; each one's
// channels live in a Herald namespace of their own, so Herald's API and clients reach them too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace herald {

// One webhook of an app (docs/PUSHER.md, "Webhooks"): where Herald POSTs the app's events, as
// Pusher does, signed with the app's key and secret.
struct PusherWebhookOptions {
  std::string url;                  // http[s]://host[:port]/path (https: verified, see
                                    // ServerOptions::pusher_webhook_tls_ca)
  std::vector<std::string> events;  // the event names it wants; empty: all five
  uint32_t batch_ms = 100;          // events of this long a window go out in one request
  uint32_t max_attempts = 6;        // tries per request (backoff 250 ms doubling, up to 30 s)
  size_t max_queued = 10'000;       // events waiting for this URL; newer ones are dropped
  uint32_t timeout_ms = 5'000;      // connect, send and answer of one attempt
};

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
  std::vector<PusherWebhookOptions> webhooks;
  // The history extension (docs/PUSHER.md, "History for reconnecting clients"): publications kept
  // per channel for clients that ask to be replayed what they missed (0: off; stock clients never
  // see a difference either way).
  size_t history = 0;
};

}  // namespace herald
