// herald bench history: the append rate through the server. --count publishes go to
// POST /api/publish, round-robin over --channels channels <ns>:hist:<i> that nobody subscribes
// to, with --pipeline requests in flight on each of --api-connections keep-alive connections
// (a closed loop: a new request leaves as soon as an answer comes in). Reports publishes/s and
// the latency of the answers (request written -> answer read). Against a durable server an
// answer means the publication is committed (docs/PROTOCOL.md, publish), so this measures the
// history store through the whole server, not the store alone (tests/unit/store's store_bench).
#include <algorithm>
#include <cstdio>
#include <deque>
#include <string>

#include "api_client.h"
#include "herald_wire.h"
#include "histogram.h"
#include "modes.h"
#include "proc_stats.h"
#include "report.h"
#include "runner.h"

namespace herald::bench {
namespace {

// Answers are matched to requests per connection, in order (HTTP/1.1 pipelining).
// Thread: the main thread only.
class HistoryLoad : public ApiHandler {
 public:
  explicit HistoryLoad(int connections) : sent_at_(static_cast<size_t>(connections)) {}

  void sent(int conn, uint64_t now) { sent_at_[static_cast<size_t>(conn)].push_back(now); }

  void on_api_response(uint64_t tag, int status, std::string_view body) override {
    uint64_t now = now_ns();
    auto& q = sent_at_[tag];
    if (!q.empty()) {
      latency.record(now - std::min(now, q.front()));
      q.pop_front();
    }
    if (status == 200) {
      ++accepted;
    } else {
      ++rejected;
      if (first_error.empty()) {
        first_error = "HTTP " + std::to_string(status) + " " + std::string(body.substr(0, 300));
      }
    }
  }

  void on_api_failure(uint64_t tag, std::string_view what) override {
    auto& q = sent_at_[tag];
    if (!q.empty()) {
      q.pop_front();
    }
    ++failed;
    if (first_error.empty()) {
      first_error = std::string(what);
    }
  }

  uint64_t answered() const { return accepted + rejected + failed; }

  LatencyHistogram latency;
  uint64_t accepted = 0, rejected = 0, failed = 0;
  std::string first_error;

 private:
  std::vector<std::deque<uint64_t>> sent_at_;  // per connection, oldest first
};

}  // namespace

int run_history(const BenchOptions& o) {
  auto target = resolve_target(o.url);
  if (!target) {
    std::fprintf(stderr, "herald bench history: %s\n", target.error().c_str());
    return 1;
  }
  if (target->url.tls()) {
    std::fprintf(stderr, "herald bench history: --url %s: the server API client speaks plain HTTP, "
                 "not TLS\n", o.url.c_str());
    return 2;
  }
  ApiClient api;
  if (auto r = api.open(target->endpoint, o.api_connections, target->url.host_header(), o.api_key);
      !r) {
    std::fprintf(stderr, "herald bench history: %s\n", r.error().c_str());
    return 1;
  }
  std::vector<std::string> channels;
  for (int i = 0; i < o.channels; ++i) {
    channels.push_back(o.ns + ":hist:" + std::to_string(i));
  }
  std::optional<ProcSample> server0;
  if (o.server_pid > 0) {
    server0 = sample_process(o.server_pid);
    if (!server0) {
      std::fprintf(stderr, "herald bench history: cannot read /proc/%d/stat\n", o.server_pid);
      return 1;
    }
  }
  ProcSample self0 = sample_self();
  std::optional<MachineSample> machine0 = sample_machine();

  HistoryLoad load(o.api_connections);
  std::string data = make_data_body(o.size);
  std::string body;
  uint64_t sent = 0;
  uint64_t t0 = now_ns();
  uint64_t deadline = t0 + static_cast<uint64_t>(o.duration_s * 1e9);
  uint64_t last_progress = t0;
  while (load.answered() < o.count && api.any_usable() && now_ns() < deadline) {
    for (int c = 0; c < api.connections() && sent < o.count; ++c) {
      while (api.usable(c) && api.in_flight(c) < static_cast<size_t>(o.pipeline) &&
             sent < o.count) {
        uint64_t now = now_ns();
        write_stamp(data.data(), Stamp{sent, now});
        body.clear();
        append_api_publish(body, channels[sent % channels.size()], data);
        api.post(c, "/api/publish", body, static_cast<uint64_t>(c));
        load.sent(c, now);
        ++sent;
      }
    }
    api.poll(50, load);
    uint64_t now = now_ns();
    if (!o.quiet && now - last_progress > 1000000000ULL) {
      std::fprintf(stderr, "\r[bench history] %llu/%llu answered    ",
                   static_cast<unsigned long long>(load.answered()),
                   static_cast<unsigned long long>(o.count));
      last_progress = now;
    }
  }
  double elapsed = static_cast<double>(now_ns() - t0) / 1e9;
  if (!o.quiet && last_progress != t0) {
    std::fputs("\n", stderr);
  }
  ProcSample self1 = sample_self();
  std::optional<MachineSample> machine1 = sample_machine();
  std::optional<ProcSample> server1;
  if (server0) {
    server1 = sample_process(o.server_pid);
  }

  Report report;
  report.add_text("mode", "history");
  report.add_text("url", o.url);
  report.add_int("channels", o.channels);
  report.add_int("api_connections", o.api_connections);
  report.add_int("pipeline", o.pipeline);
  report.add_int("size_bytes", static_cast<int64_t>(data.size()), "B");
  report.add_int("publishes_requested", static_cast<int64_t>(o.count));
  report.add_int("publishes_sent", static_cast<int64_t>(sent));
  report.add_int("publishes_accepted", static_cast<int64_t>(load.accepted));
  report.add_int("publishes_rejected", static_cast<int64_t>(load.rejected));
  report.add_int("publishes_unanswered", static_cast<int64_t>(sent - load.answered()));
  if (!load.first_error.empty()) {
    report.add_text("first_error", load.first_error);
  }
  report.add("elapsed_s", elapsed, "s");
  report.add("publishes_per_s", elapsed > 0 ? static_cast<double>(load.accepted) / elapsed : 0,
             "msg/s");
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  report.add_int("latency_samples", static_cast<int64_t>(load.latency.count()));
  report.add("latency_p50_us", us(load.latency.quantile(0.50)), "us");
  report.add("latency_p99_us", us(load.latency.quantile(0.99)), "us");
  report.add("latency_p999_us", us(load.latency.quantile(0.999)), "us");
  report.add("latency_max_us", us(load.latency.max()), "us");
  double self_cpu = self1.cpu_seconds - self0.cpu_seconds;
  report.add("generator_cpu_s", self_cpu, "s");
  report.add("generator_cpu_pct", elapsed > 0 ? 100 * self_cpu / elapsed : 0, "%");
  if (server0 && server1) {
    double cpu = server1->cpu_seconds - server0->cpu_seconds;
    report.add_int("server_pid", o.server_pid);
    report.add("server_cpu_s", cpu, "s");
    report.add("server_cpu_pct", elapsed > 0 ? 100 * cpu / elapsed : 0, "%");
    if (load.accepted > 0) {
      report.add("server_cpu_us_per_publish", cpu * 1e6 / static_cast<double>(load.accepted), "us");
    }
    report.add_int("server_rss_start_kib", server0->rss_kib, "KiB");
    report.add_int("server_rss_end_kib", server1->rss_kib, "KiB");
  }
  if (machine0 && machine1) {
    double server_cpu = server0 && server1 ? server1->cpu_seconds - server0->cpu_seconds : 0;
    add_machine_figures(machine1->busy_seconds - machine0->busy_seconds, server_cpu,
                        server0 && server1, self_cpu, elapsed, report);
  }
  if (o.json) {
    std::printf("%s\n", report.to_json().c_str());
  } else {
    std::fputs(report.to_text().c_str(), stdout);
  }
  std::fflush(stdout);
  return load.accepted > 0 ? 0 : 1;
}

}  // namespace herald::bench
