#include "pusher/metrics.h"

#include "base/prometheus_text.h"

namespace herald::pusher {
namespace {

void family(PrometheusText& t, const char* name, const char* type, const char* help,
            const std::vector<const Metrics*>& loops, transport::Counter Metrics::*field) {
  uint64_t sum = 0;
  for (const Metrics* m : loops) {
    sum += (m->*field).get();
  }
  t.family(name, type, help);
  t.sample(name, sum);
}

}  // namespace

void render_metrics(std::string& out, const std::vector<const Metrics*>& loops) {
  PrometheusText t(out);
  family(t, "herald_pusher_connections", "gauge", "Open Pusher-protocol connections.", loops,
         &Metrics::connections);
  family(t, "herald_pusher_connections_total", "counter",
         "Pusher-protocol connections established.", loops, &Metrics::connections_total);
  family(t, "herald_pusher_refused_connections_total", "counter",
         "Pusher connections refused (4001 unknown app key, 4006-4008 protocol version, 4009 "
         "origin).",
         loops, &Metrics::refused_connections);
  family(t, "herald_pusher_subscriptions_total", "counter", "Pusher subscriptions succeeded.",
         loops, &Metrics::subscriptions);
  family(t, "herald_pusher_subscription_errors_total", "counter",
         "Pusher subscriptions refused (pusher:subscription_error).", loops,
         &Metrics::subscription_errors);
  family(t, "herald_pusher_bad_messages_total", "counter",
         "Pusher client messages refused as malformed or unknown (pusher:error 4300, 4304).",
         loops, &Metrics::bad_messages);
  family(t, "herald_pusher_client_events_total", "counter", "Pusher client events published.",
         loops, &Metrics::client_events);
  family(t, "herald_pusher_client_event_refusals_total", "counter",
         "Pusher client events refused (pusher:error 4301-4303).", loops,
         &Metrics::client_event_refusals);
  family(t, "herald_pusher_signins_total", "counter", "Pusher user signins accepted.", loops,
         &Metrics::signins);
  family(t, "herald_pusher_signin_refusals_total", "counter",
         "Pusher user signins refused (closed with 4009).", loops, &Metrics::signin_refusals);
  family(t, "herald_pusher_rest_requests_total", "counter",
         "Pusher REST API requests answered with success.", loops, &Metrics::rest_requests);
  family(t, "herald_pusher_rest_refusals_total", "counter",
         "Pusher REST API requests refused (4xx) or failed (5xx).", loops,
         &Metrics::rest_refusals);
  family(t, "herald_pusher_rest_events_total", "counter",
         "Events published through the Pusher REST API (one per channel).", loops,
         &Metrics::rest_events);
  family(t, "herald_pusher_xhr_sessions", "gauge",
         "pusher-js HTTP fallback sessions held (xhr_streaming, xhr_polling).", loops,
         &Metrics::xhr_sessions);
  family(t, "herald_pusher_xhr_sessions_total", "counter",
         "pusher-js HTTP fallback sessions opened.", loops, &Metrics::xhr_sessions_total);
  family(t, "herald_pusher_xhr_requests_total", "counter",
         "Requests on /pusher/app/ (xhr_streaming, xhr, xhr_send).", loops,
         &Metrics::xhr_requests);
  family(t, "herald_pusher_xhr_refusals_total", "counter",
         "Requests on /pusher/app/ refused (4xx: bad path, unknown session, bad body).", loops,
         &Metrics::xhr_refusals);
  family(t, "herald_pusher_xhr_expired_total", "counter",
         "HTTP fallback sessions ended because nobody received for session_timeout.", loops,
         &Metrics::xhr_expired);
  family(t, "herald_pusher_xhr_slow_total", "counter",
         "HTTP fallback sessions closed with 4100: events queued over max_output_bytes.", loops,
         &Metrics::xhr_slow);
}

}  // namespace herald::pusher
