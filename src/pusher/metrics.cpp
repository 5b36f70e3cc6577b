#include "pusher/metrics.h"

#include "base/prometheus_text.h"

namespace herald::pusher {
namespace {

// Every herald_pusher_* family but the webhooks' (webhooks.cpp): one row each, summed over the
// loops.
struct Family {
  const char* name;
  const char* type;
  const char* help;
  transport::Counter Metrics::*field;
};

constexpr Family kFamilies[] = {
    {"herald_pusher_connections", "gauge", "Open Pusher-protocol connections.",
     &Metrics::connections},
    {"herald_pusher_connections_total", "counter", "Pusher-protocol connections established.",
     &Metrics::connections_total},
    {"herald_pusher_refused_connections_total", "counter",
     "Pusher connections refused (4001 unknown app key, 4006-4008 protocol version, 4009 origin).",
     &Metrics::refused_connections},
    {"herald_pusher_subscriptions_total", "counter", "Pusher subscriptions succeeded.",
     &Metrics::subscriptions},
    {"herald_pusher_subscription_errors_total", "counter",
     "Pusher subscriptions refused (pusher:subscription_error).", &Metrics::subscription_errors},
    {"herald_pusher_bad_messages_total", "counter",
     "Pusher client messages refused as malformed or unknown (pusher:error 4300, 4304).",
     &Metrics::bad_messages},
    {"herald_pusher_client_events_total", "counter", "Pusher client events published.",
     &Metrics::client_events},
    {"herald_pusher_client_event_refusals_total", "counter",
     "Pusher client events refused (pusher:error 4301-4303).", &Metrics::client_event_refusals},
    {"herald_pusher_signins_total", "counter", "Pusher user signins accepted.", &Metrics::signins},
    {"herald_pusher_signin_refusals_total", "counter",
     "Pusher user signins refused (closed with 4009).", &Metrics::signin_refusals},
    {"herald_pusher_rest_requests_total", "counter",
     "Pusher REST API requests answered with success.", &Metrics::rest_requests},
    {"herald_pusher_rest_refusals_total", "counter",
     "Pusher REST API requests refused (4xx) or failed (5xx).", &Metrics::rest_refusals},
    {"herald_pusher_rest_events_total", "counter",
     "Events published through the Pusher REST API (one per channel).", &Metrics::rest_events},
    {"herald_pusher_xhr_sessions", "gauge",
     "pusher-js HTTP fallback sessions held (xhr_streaming, xhr_polling).", &Metrics::xhr_sessions},
    {"herald_pusher_xhr_sessions_total", "counter", "pusher-js HTTP fallback sessions opened.",
     &Metrics::xhr_sessions_total},
    {"herald_pusher_xhr_requests_total", "counter",
     "Requests on /pusher/app/ (xhr_streaming, xhr, xhr_send).", &Metrics::xhr_requests},
    {"herald_pusher_xhr_refusals_total", "counter",
     "Requests on /pusher/app/ refused (4xx: bad path, unknown session, bad body).",
     &Metrics::xhr_refusals},
    {"herald_pusher_xhr_expired_total", "counter",
     "HTTP fallback sessions ended because nobody received for session_timeout.",
     &Metrics::xhr_expired},
    {"herald_pusher_xhr_slow_total", "counter",
     "HTTP fallback sessions closed with 4100: events queued over max_output_bytes.",
     &Metrics::xhr_slow},
};

}  // namespace

void render_metrics(std::string& out, const std::vector<const Metrics*>& loops) {
  PrometheusText t(out);
  for (const Family& f : kFamilies) {
    uint64_t sum = 0;
    for (const Metrics* m : loops) {
      sum += (m->*f.field).get();
    }
    t.family(f.name, f.type, f.help);
    t.sample(f.name, sum);
  }
}

}  // namespace herald::pusher
