#pragma once
// Webhooks: sends each app's webhook events (webhook_events.h) to its URLs as Pusher does, from a
// thread of its own that runs an event loop of its own (docs/PUSHER.md, "Webhooks").
//
// Why a thread: the client event loops must never wait on a receiver. A webhook request is
// rare next to the traffic of a loop, but its failure modes are slow (a name lookup, a receiver
// that accepts and never answers, retries over minutes), and each would be state on a loop that
// must stay lean. Here the loops only post an event (one queue push and at most one eventfd write
// per burst); the webhook loop does the rest non-blocking (HttpPost), so one slow URL does not
// hold back another. The one blocking call is getaddrinfo, which delays only webhooks.
//
// https:// URLs: the receiver's certificate must chain to pusher.webhook_tls_ca (PEM CA
// certificates; "" = the system's store) and name the URL's host (an IP address as an IP SAN).
// The client context is loaded once by start(), on the starting thread; a refused certificate, a
// handshake reset or a receiver that never answers is a failed attempt like a 500.
//
// Per URL (a Target): events wait up to batch_ms and leave together (at most 100 a request, the
// body {"time_ms","events"} signed with X-Pusher-Key and X-Pusher-Signature); one request is in
// flight at a time, so a URL sees its batches in order. A failed attempt (no answer, or a status
// that is not 2xx) is retried after 250 ms, doubling up to 30 s, with jitter (half the delay
// random), up to max_attempts; then the batch is dropped. At most max_queued events wait per URL;
// newer ones are dropped. Every drop is counted (herald_pusher_webhook_dropped_events_total).
// Why an attempt failed is logged once per URL, and again only when the reason changes (a
// receiver down for an hour is one line, not one per retry).
// Pending events are lost when the server stops.
// Thread: send() and the metrics from any thread; the rest on the webhook thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "herald/result.h"
#include "net/event_loop.h"
#include "net/tls_context.h"
#include "pusher/apps.h"
#include "pusher/http_post.h"
#include "pusher/webhook_events.h"
#include "transport/metrics.h"

namespace herald::pusher {

struct WebhookMetrics {
  transport::Counter events;          // events handed to a URL's queue
  transport::Counter delivered;       // events of requests answered 2xx
  transport::Counter requests;        // attempts answered 2xx
  transport::Counter failed_attempts;  // attempts with no answer or a non-2xx status
  transport::Counter dropped_full;    // events refused: the URL's queue was full
  transport::Counter dropped_attempts;  // events of batches that failed max_attempts times
  transport::Counter queued;          // gauge: events waiting (every URL)
};

class Webhooks {
 public:
  // The apps' webhooks (their URLs already validated by Apps::validate); tls_ca_file: the
  // CA file of https:// receivers (pusher.webhook_tls_ca). No thread yet.
  Webhooks(const Apps& apps, std::string tls_ca_file);
  ~Webhooks();  // stops the thread; what waits is dropped
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  // Loads the TLS client context when a URL is https:// (blocking file I/O; an unreadable CA
  // file is an error naming pusher.webhook_tls_ca and the file), then starts the thread (when
  // any app has a webhook).
  Result<Ok> start();
  // Whether any webhook of app wants kind: callers skip building events nobody wants.
  // Thread: any.
  bool wants(const App& app, WebhookKind kind) const { return (app.webhook_kinds & kind) != 0; }
  // Queues an event (a JSON object text) for the app's webhooks that want kind. Thread: any.
  void send(const App& app, WebhookKind kind, std::string event);

  const WebhookMetrics& metrics() const { return metrics_; }
  // The herald_pusher_webhook_* families.
  void render_metrics(std::string& out) const;

 private:
  class Target;

  std::string tls_ca_file_;
  net::EventLoop loop_;
  std::thread thread_;
  bool running_ = false;
  WebhookMetrics metrics_;
  // Built by the constructor, read-only afterwards; the Targets are used on the webhook thread.
  std::unordered_map<const App*, std::vector<std::unique_ptr<Target>>> targets_;
};

}  // namespace herald::pusher
