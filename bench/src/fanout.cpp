// herald bench fanout | channels: Herald protocol subscribers (subscriber.h) over --transport
// (a WebSocket on /connection/websocket by default, or raw TCP, SSE, long-polling) and one
// publisher (publisher.h) at --rate messages/s.
//   fanout:   --subscribers N clients all subscribed to <ns>:fanout
//   channels: --channels C clients, client i subscribed to <ns>:ch:i alone; the publishes go
//             round-robin over the C channels
#include <algorithm>
#include <cstdio>
#include <string>

#include "herald_wire.h"
#include "modes.h"
#include "publisher.h"
#include "runner.h"
#include "subscriber.h"

namespace herald::bench {
namespace {

double per_s(uint64_t n, double s) {
  return s > 0 ? static_cast<double>(n) / s : 0;
}

}  // namespace

int run_fanout(const BenchOptions& o) {
  const char* name = o.mode == Mode::kChannels ? "channels" : "fanout";
  if (o.size < kStampSize) {
    std::fprintf(stderr, "herald bench %s: --size %zu is below the %zu-byte stamp; using %zu\n",
                 name, o.size, kStampSize, kStampSize);
  }
  std::vector<std::string> channels;
  if (o.mode == Mode::kChannels) {
    channels.reserve(static_cast<size_t>(o.channels));
    for (int i = 0; i < o.channels; ++i) {
      channels.push_back(o.ns + ":ch:" + std::to_string(i));
    }
  } else {
    channels.push_back(o.ns + ":fanout");
  }
  std::vector<std::atomic<uint32_t>> subscribers(channels.size());
  SubscriberFigures figures;
  LinkCounters links;
  PublisherStats pub;
  RunResult r = run_bench(
      o,
      [&](Shared& s, int i, std::vector<uint32_t> ids) {
        return std::make_unique<SubscriberWorker>(s, i, std::move(ids), channels, subscribers);
      },
      [&](Worker& w) {
        // Only SubscriberWorkers are made above; their threads have been joined.
        auto& sw = static_cast<SubscriberWorker&>(w);
        figures.add(sw.figures);
        LinkCounters c = sw.link_counters();
        links.requests += c.requests;
        links.poll_answers += c.poll_answers;
        links.empty_answers += c.empty_answers;
        links.keepalives += c.keepalives;
      },
      [&](Shared& s) {
        Publisher publisher(s, channels, subscribers);
        publisher.run();
        pub = std::move(publisher.stats);
      });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench %s: %s\n", name, r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
  double secs = r.measure_s > 0 ? r.measure_s : 1;
  if (r.server_sampled) {
    // Connect + subscribe of every subscriber (with join/leave pushes on, it grows as N^2).
    report.add("server_connect_cpu_s", r.server_cpu_connect_s, "s");
  }
  report.add_text("transport", std::string(to_string(o.transport)));
  report.add_int("channels", static_cast<int64_t>(channels.size()));
  report.add_text("publish_via", o.publish_via == PublishVia::kApi ? "api" : "ws");
  if (o.publish_via == PublishVia::kApi) {
    report.add_int("api_connections", o.api_connections);
  }
  report.add_int("size_bytes", static_cast<int64_t>(std::max(o.size, kStampSize)), "B");
  report.add("rate_requested", o.rate, "msg/s");
  report.add("offered_msgs_per_s", per_s(pub.sent, secs), "msg/s");
  report.add_int("messages_sent", static_cast<int64_t>(pub.sent));
  report.add_int("messages_accepted", static_cast<int64_t>(pub.accepted));
  report.add_int("publish_rejected", static_cast<int64_t>(pub.rejected));
  report.add_int("publish_unanswered", static_cast<int64_t>(pub.failed));
  report.add_int("sends_skipped", static_cast<int64_t>(pub.skipped));
  // Still queued in the server when the drain ended (saturated): neither accepted nor expected,
  // but some of their deliveries may have arrived (deliveries_beyond_accepted).
  report.add_int("publish_outstanding_at_end",
                 static_cast<int64_t>(pub.sent - pub.accepted - pub.rejected - pub.failed));
  if (!pub.first_error.empty()) {
    report.add_text("publish_first_error", pub.first_error);
  }
  report.add_int("deliveries_expected", static_cast<int64_t>(r.expected));
  report.add_int("deliveries_received", static_cast<int64_t>(r.received));
  report.add("offered_deliveries_per_s", per_s(r.expected, secs), "msg/s");
  report.add("delivered_per_s", per_s(r.received_in_window, secs), "msg/s");
  // Each channel's accepted publishes are a prefix of its sequence (one connection, answers in
  // order), so with no seq_gaps any shortfall is a loss at the tail and any excess is deliveries
  // of publishes whose answer had not come back.
  uint64_t lost = r.expected - std::min(r.expected, r.received);
  report.add_int("deliveries_beyond_accepted",
                 static_cast<int64_t>(r.received - std::min(r.expected, r.received)));
  report.add_int("deliveries_lost", static_cast<int64_t>(lost));
  report.add(
      "lost_pct",
      r.expected > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(r.expected) : 0.0,
      "%");
  figures.report_to(report);
  // The transport's grouping of pushes: per WebSocket message, SSE event, poll answer, TCP line.
  report.add_int("push_units", static_cast<int64_t>(figures.push_units));
  report.add("pushes_per_unit",
             figures.push_units > 0 ? static_cast<double>(figures.pushes_in_units) /
                                          static_cast<double>(figures.push_units)
                                    : 0.0);
  if (o.transport == Transport::kSse || o.transport == Transport::kPoll) {
    report.add_int("http_requests", static_cast<int64_t>(links.requests));
  }
  if (o.transport == Transport::kPoll) {
    report.add_int("poll_answers", static_cast<int64_t>(links.poll_answers));
    report.add_int("poll_answers_empty", static_cast<int64_t>(links.empty_answers));
  }
  if (links.keepalives > 0) {
    report.add_int("keepalives", static_cast<int64_t>(links.keepalives));
  }
  report.add("drain_s", r.drain_s, "s");
  add_latency_figures(r.histogram, report);
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  report.add("publish_reply_p50_us", us(pub.reply_latency.quantile(0.50)), "us");
  report.add("publish_reply_p99_us", us(pub.reply_latency.quantile(0.99)), "us");
  report.add("publish_reply_max_us", us(pub.reply_latency.max()), "us");
  if (r.server_sampled && r.received > 0) {
    report.add("server_cpu_us_per_delivery", r.server_cpu_total_s * 1e6 / r.received, "us");
  }
  if (r.server_sampled && pub.accepted > 0) {
    report.add("server_cpu_us_per_publish", r.server_cpu_total_s * 1e6 / pub.accepted, "us");
  }
  if (r.redis_sampled && pub.accepted > 0) {
    // Redis's share of each publication (its script, the fan-out to the nodes, the
    // subscriptions): measured phase + drain, over the publications accepted.
    report.add("redis_cpu_us_per_publish", r.redis_cpu_total_s * 1e6 / pub.accepted, "us");
  }
  if (r.received > 0) {
    report.add("generator_cpu_us_per_delivery", r.self_cpu_total_s * 1e6 / r.received, "us");
  }
  return finish_report(o, r, report);
}

}  // namespace herald::bench
