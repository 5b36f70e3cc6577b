#pragma once
// The Pusher protocol's counters, one set per loop (written by the loop, read by /metrics from
// any thread), and their Prometheus text. Thread: written by the owning loop only.

#include <string>
#include <vector>

#include "transport/metrics.h"

namespace herald::pusher {

struct Metrics {
  transport::Counter connections;        // gauge: open Pusher connections
  transport::Counter connections_total;  // accepted (connection_established sent)
  transport::Counter refused_connections;  // 4001 unknown key, 4006-4008 version, 4009 origin
  transport::Counter subscriptions;       // subscription_succeeded sent
  transport::Counter subscription_errors;  // pusher:subscription_error sent
  transport::Counter bad_messages;        // pusher:error 4300/4304: not JSON, no event, unknown
  transport::Counter client_events;       // client events published
  transport::Counter client_event_refusals;  // 4301-4303
  transport::Counter signins;             // pusher:signin_success
  transport::Counter signin_refusals;     // signin refused: closed with 4009
  transport::Counter rest_requests;       // REST requests answered 2xx
  transport::Counter rest_refusals;       // REST requests answered 4xx/5xx
  transport::Counter rest_events;         // events published by the REST API (per channel)
  // pusher-js's HTTP fallbacks (xhr_streaming, xhr_polling).
  transport::Counter xhr_sessions;        // gauge: sessions held
  transport::Counter xhr_sessions_total;  // sessions opened
  transport::Counter xhr_requests;        // requests on /pusher/app/ (streams, polls, sends)
  transport::Counter xhr_refusals;        // answered 4xx: unknown session, bad path, bad body
  transport::Counter xhr_expired;         // sessions nobody received for session_timeout
  transport::Counter xhr_slow;            // sessions closed 4100: events over max_output_bytes
};

// Appends the herald_pusher_* families, summed over loops.
void render_metrics(std::string& out, const std::vector<const Metrics*>& loops);

}  // namespace herald::pusher
