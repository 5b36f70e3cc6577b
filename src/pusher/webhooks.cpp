#include "pusher/webhooks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/prometheus_text.h"

namespace herald::pusher {
namespace {

constexpr size_t kMaxEventsPerRequest = 100;
constexpr uint64_t kBackoffFirstMs = 250;
constexpr uint64_t kBackoffMaxMs = 30'000;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// One webhook URL of one app: its waiting events, its batches and its one request in flight.
// Thread: the webhook loop only.
class Webhooks::Target final : private net::Timer {
 public:
  Target(net::EventLoop& loop, WebhookMetrics& metrics, const App& app,
         const PusherWebhookOptions& options, HttpUrl url, uint8_t mask)
      : loop_(loop),
        metrics_(metrics),
        app_(app),
        options_(options),
        url_(std::move(url)),
        mask_(mask),
        post_(loop, nullptr),
        rng_(std::random_device{}()) {}

  bool wants(WebhookKind kind) const { return (mask_ & kind) != 0; }
  bool https() const { return url_.tls; }
  // Before the thread starts.
  void set_tls(std::shared_ptr<const net::TlsContext> tls) { post_.set_tls(std::move(tls)); }

  void add(const std::string& event) {
    if (waiting_ >= options_.max_queued) {
      metrics_.dropped_full.add();
      return;
    }
    ++waiting_;
    metrics_.events.add();
    metrics_.queued.add();
    pending_.push_back(event);
    if (!post_.busy() && !Timer::armed()) {
      loop_.timers().arm(*this, loop_.now_ms(), options_.batch_ms);
    }
  }

  void stop() {
    post_.cancel();
    Timer::cancel();
  }

 private:
  struct Batch {
    std::string request;  // head and body, signed
    size_t events = 0;
    uint32_t attempts = 0;
  };

  // Fires after batch_ms (the pending events leave) or after a retry's backoff.
  void on_timer() override { send_next(); }

  void seal_pending() {
    int64_t now = wall_ms();
    for (size_t i = 0; i < pending_.size(); i += kMaxEventsPerRequest) {
      size_t end = std::min(pending_.size(), i + kMaxEventsPerRequest);
      std::string body = webhook_body(now, pending_, i, end);
      Batch b;
      b.events = end - i;
      b.request = "POST " + url_.path + " HTTP/1.1\r\nHost: " + url_.authority +
                  "\r\nContent-Type: application/json\r\nX-Pusher-Key: " + app_.options.key +
                  "\r\nX-Pusher-Signature: " + webhook_signature(app_.options.secret, body) +
                  "\r\nUser-Agent: herald\r\nConnection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
      batches_.push_back(std::move(b));
    }
    pending_.clear();
  }

  void send_next() {
    if (post_.busy()) {
      return;
    }
    seal_pending();
    if (batches_.empty()) {
      return;
    }
    Batch& b = batches_.front();
    ++b.attempts;
    post_.start(url_, b.request, options_.timeout_ms,
                [this](int status, const std::string& why) { answered(status, why); });
  }

  void answered(int status, const std::string& why) {
    Batch& b = batches_.front();
    if (status >= 200 && status < 300) {
      metrics_.requests.add();
      metrics_.delivered.add(b.events);
      retire_front();
      backoff_ms_ = 0;
      if (!logged_.empty()) {
        spdlog::info("pusher app {} webhook {}: delivered again", app_.options.id, url_.origin());
        logged_.clear();
      }
    } else {
      metrics_.failed_attempts.add();
      std::string reason = status != 0 ? "answered " + std::to_string(status) : why;
      if (reason != logged_) {
        // Said once, then retried quietly: a receiver down for an hour is one line.
        spdlog::warn("pusher app {} webhook {}: {}; retrying with backoff (logged again only "
                     "when the reason changes)",
                     app_.options.id, url_.origin(), reason);
        logged_ = reason;
      }
      if (b.attempts >= options_.max_attempts) {
        metrics_.dropped_attempts.add(b.events);
        retire_front();
      } else {
        // Exponential backoff with jitter: the delay is between half and all of 250 ms * 2^n.
        backoff_ms_ = backoff_ms_ == 0 ? kBackoffFirstMs : std::min(kBackoffMaxMs, backoff_ms_ * 2);
        uint64_t delay = backoff_ms_ / 2 + std::uniform_int_distribution<uint64_t>(
                                               0, backoff_ms_ / 2)(rng_);
        loop_.timers().arm(*this, loop_.now_ms(), delay);
        return;
      }
    }
    if (!batches_.empty() || !pending_.empty()) {
      // What waited behind this request goes now if a batch window already passed for it.
      if (!Timer::armed()) {
        loop_.timers().arm(*this, loop_.now_ms(), batches_.empty() ? options_.batch_ms : 0);
      }
    }
  }

  void retire_front() {
    size_t n = batches_.front().events;
    waiting_ -= n;
    metrics_.queued.sub(n);
    batches_.pop_front();
  }

  net::EventLoop& loop_;
  WebhookMetrics& metrics_;
  const App& app_;
  const PusherWebhookOptions& options_;
  HttpUrl url_;
  uint8_t mask_;
  HttpPost post_;
  std::vector<std::string> pending_;  // not yet in a batch
  std::deque<Batch> batches_;         // front: in flight or next
  size_t waiting_ = 0;                // events in pending_ and batches_
  uint64_t backoff_ms_ = 0;
  std::string logged_;  // the failure last logged ("": none since the last success)
  std::mt19937_64 rng_;
};

Webhooks::Webhooks(const Apps& apps, std::string tls_ca_file)
    : tls_ca_file_(std::move(tls_ca_file)), loop_(-1) {
  for (const auto& app : apps.all()) {
    for (const PusherWebhookOptions& w : app->options.webhooks) {
      auto url = parse_http_url(w.url);
      uint8_t mask = 0;
      std::string bad;
      if (!url || !webhook_mask(w.events, &mask, &bad)) {
        continue;  // Apps::validate refused these before the server started
      }
      targets_[app.get()].push_back(
          std::make_unique<Target>(loop_, metrics_, *app, w, std::move(*url), mask));
    }
  }
}

Webhooks::~Webhooks() {
  if (running_) {
    loop_.post([this] {
      for (auto& [app, targets] : targets_) {
        for (auto& t : targets) {
          t->stop();
        }
      }
    });
    loop_.stop();
    thread_.join();
  }
}

Result<Ok> Webhooks::start() {
  if (targets_.empty()) {
    return Ok{};
  }
  bool https = false;
  for (auto& [app, targets] : targets_) {
    for (auto& t : targets) {
      https = https || t->https();
    }
  }
  if (https) {
    // setting_prefix: load errors read "pusher.webhook_tls_ca /x.pem: no PEM certificate in it".
    net::TlsContext::ClientFiles files{tls_ca_file_, "", "", "pusher.webhook_"};
    auto tls = net::TlsContext::load_client(files);
    if (!tls) {
      return Error{tls.error()};
    }
    spdlog::info("pusher webhooks: https receivers verified against {}", (*tls)->description());
    for (auto& [app, targets] : targets_) {
      for (auto& t : targets) {
        t->set_tls(*tls);
      }
    }
  }
  if (auto r = loop_.init(); !r) {
    return Error{"webhooks: " + r.error()};
  }
  thread_ = std::thread([this] { loop_.run(); });
  running_ = true;
  return Ok{};
}

void Webhooks::send(const App& app, WebhookKind kind, std::string event) {
  if (!running_ || !wants(app, kind)) {
    return;
  }
  loop_.post([this, app = &app, kind, event = std::move(event)] {
    auto it = targets_.find(app);
    if (it == targets_.end()) {
      return;
    }
    for (auto& t : it->second) {
      if (t->wants(kind)) {
        t->add(event);
      }
    }
  });
}

void Webhooks::render_metrics(std::string& out) const {
  PrometheusText t(out);
  auto family = [&t](const char* name, const char* type, const char* help, uint64_t v) {
    t.family(name, type, help);
    t.sample(name, v);
  };
  family("herald_pusher_webhook_events_total", "counter", "Webhook events queued for a URL.",
         metrics_.events.get());
  family("herald_pusher_webhook_delivered_events_total", "counter",
         "Webhook events whose request was answered 2xx.", metrics_.delivered.get());
  family("herald_pusher_webhook_requests_total", "counter", "Webhook requests answered 2xx.",
         metrics_.requests.get());
  family("herald_pusher_webhook_failed_attempts_total", "counter",
         "Webhook attempts that got no answer or a status other than 2xx (each is retried "
         "until max_attempts).",
         metrics_.failed_attempts.get());
  t.family("herald_pusher_webhook_dropped_events_total", "counter",
           "Webhook events dropped: the URL's queue was full, or their request failed "
           "max_attempts times.");
  t.sample("herald_pusher_webhook_dropped_events_total", {{"reason", "queue_full"}},
           metrics_.dropped_full.get());
  t.sample("herald_pusher_webhook_dropped_events_total", {{"reason", "attempts"}},
           metrics_.dropped_attempts.get());
  family("herald_pusher_webhook_queued_events", "gauge", "Webhook events waiting to be sent.",
         metrics_.queued.get());
}

}  // namespace herald::pusher
