// herald bench idle: --connections Herald protocol clients over --transport, each connected and
// subscribed to <ns>:idle and then left alone (no publication) for --hold seconds: how many got
// there, how long it took, and what each costs the server in RSS and CPU (as `herald bench
// connect` measures bare WebSockets). An idle SSE client is its open stream; an idle long-poll
// client is its session with one poll held.
#include <cstdio>

#include "modes.h"
#include "runner.h"
#include "subscriber.h"

namespace herald::bench {

int run_idle(const BenchOptions& o) {
  std::vector<std::string> channels = {o.ns + ":idle"};
  std::vector<std::atomic<uint32_t>> subscribers(channels.size());
  SubscriberFigures figures;
  LinkCounters links;
  RunResult r = run_bench(
      o,
      [&](Shared& s, int i, std::vector<uint32_t> ids) {
        return std::make_unique<SubscriberWorker>(s, i, std::move(ids), channels, subscribers);
      },
      [&](Worker& w) {
        auto& sw = static_cast<SubscriberWorker&>(w);
        figures.add(sw.figures);
        LinkCounters c = sw.link_counters();
        links.requests += c.requests;
        links.poll_answers += c.poll_answers;
      });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench idle: %s\n", r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
  report.add_text("transport", std::string(to_string(o.transport)));
  report.add("connections_per_s", r.connect_s > 0 ? r.opened / r.connect_s : 0, "conn/s");
  report.add("generator_connect_cpu_s", r.self_cpu_connect_s, "s");
  if (r.server_sampled) {
    report.add("server_connect_cpu_s", r.server_cpu_connect_s, "s");
    if (r.opened > 0) {
      report.add("server_cpu_us_per_connection", r.server_cpu_connect_s * 1e6 / r.opened, "us");
      report.add("server_rss_per_connection_kib",
                 static_cast<double>(r.server_rss_connected_kib - r.server_rss_start_kib) /
                     static_cast<double>(r.opened),
                 "KiB");
      if (r.server_rss_warm_kib > 0 && r.opened > r.server_warm_connections) {
        // Growth after the first tenth: the marginal cost of one more idle client.
        report.add("server_rss_per_connection_marginal_kib",
                   static_cast<double>(r.server_rss_connected_kib - r.server_rss_warm_kib) /
                       static_cast<double>(r.opened - r.server_warm_connections),
                   "KiB");
      }
    }
  }
  report.add_int("subscribe_refused", static_cast<int64_t>(figures.subscribe_refused));
  report.add_int(
      "unexpected_lines",
      static_cast<int64_t>(figures.other_pushes + figures.unexpected_replies + figures.malformed));
  if (o.transport == Transport::kSse || o.transport == Transport::kPoll) {
    report.add_int("http_requests", static_cast<int64_t>(links.requests));
  }
  if (o.transport == Transport::kPoll) {
    report.add_int("poll_answers", static_cast<int64_t>(links.poll_answers));
  }
  return finish_report(o, r, report);
}

}  // namespace herald::bench
