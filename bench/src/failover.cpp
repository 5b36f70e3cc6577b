// herald bench failover: a reconnect storm. --connections subscribers of <ns>:failover on the
// node of --url, a publisher at --rate msg/s through the server API of --publish-url (another
// node); --kill-after seconds into the measured phase the node's process (--kill-pid) is sent
// SIGKILL. Each subscriber it drops waits a full-jitter delay and reconnects to one of the
// --reconnect-url nodes (in turn), subscribing with `since` its last position (subscriber.h).
// Figures: how many came back and when (kill -> subscribed again, the last one), whether each
// ended with every publication exactly once and in order, and the survivors' (--server-pid)
// peak CPU and RSS, sampled every 100 ms by a monitor thread beside the publisher.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "herald_wire.h"
#include "modes.h"
#include "publisher.h"
#include "runner.h"
#include "subscriber.h"

namespace herald::bench {
namespace {

constexpr int kSampleMs = 100;

// What the monitor saw of the survivors. Written by the monitor thread, read after it joined.
struct Peaks {
  bool killed = false;
  std::string kill_error;
  double cpu_pct_sum = 0;            // the highest 100 ms CPU of all survivors together
  std::vector<double> cpu_pct_each;  // each one's highest
  long rss_before_kib = 0;           // all survivors, at the kill
  long rss_peak_kib = 0;             // all survivors, the highest sample
  std::vector<long> rss_peak_each;
  double cpu_pct_before = 0;  // all survivors, from the start of the measured phase to the kill
};

void monitor(Shared& s, const BenchOptions& o, FailoverShared& fs, Peaks& peaks) {
  auto phase = [&] { return static_cast<Phase>(s.phase.load(std::memory_order_acquire)); };
  while (phase() == Phase::kConnect) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  uint64_t start = s.measure_start_ns.load();
  auto before = sample_servers(o);
  uint64_t kill_at = start + static_cast<uint64_t>(o.kill_after_s * 1e9);
  while (phase() == Phase::kMeasure && now_ns() < kill_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (phase() != Phase::kMeasure) {
    peaks.kill_error = "the measured phase ended before --kill-after";
    return;
  }
  auto at_kill = sample_servers(o);
  uint64_t t_kill = now_ns();
  if (::kill(o.kill_pid, SIGKILL) != 0) {
    peaks.kill_error = "kill(" + std::to_string(o.kill_pid) + ", SIGKILL) failed";
    return;
  }
  fs.kill_ns.store(t_kill, std::memory_order_relaxed);
  peaks.killed = true;
  if (before && at_kill && t_kill > start) {
    peaks.cpu_pct_before = 100 * (at_kill->sum.cpu_seconds - before->sum.cpu_seconds) /
                           (static_cast<double>(t_kill - start) / 1e9);
    peaks.rss_before_kib = at_kill->sum.rss_kib;
  }
  std::optional<ServersSample> last = at_kill;
  uint64_t last_ns = t_kill;
  while (phase() != Phase::kClose) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kSampleMs));
    auto now = sample_servers(o);
    uint64_t t = now_ns();
    if (!now || !last) {
      last = now;
      last_ns = t;
      continue;
    }
    double dt = static_cast<double>(t - last_ns) / 1e9;
    peaks.cpu_pct_sum =
        std::max(peaks.cpu_pct_sum, 100 * (now->sum.cpu_seconds - last->sum.cpu_seconds) / dt);
    peaks.rss_peak_kib = std::max(peaks.rss_peak_kib, now->sum.rss_kib);
    peaks.cpu_pct_each.resize(now->each.size(), 0);
    peaks.rss_peak_each.resize(now->each.size(), 0);
    for (size_t i = 0; i < now->each.size() && i < last->each.size(); ++i) {
      peaks.cpu_pct_each[i] = std::max(
          peaks.cpu_pct_each[i], 100 * (now->each[i].cpu_seconds - last->each[i].cpu_seconds) / dt);
      peaks.rss_peak_each[i] = std::max(peaks.rss_peak_each[i], now->each[i].rss_kib);
    }
    last = now;
    last_ns = t;
  }
}

std::string join_figures(const std::vector<pid_t>& pids, const std::vector<double>& values,
                         const char* format) {
  std::string out;
  for (size_t i = 0; i < pids.size() && i < values.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), format, static_cast<int>(pids[i]), values[i]);
    out += (i == 0 ? "" : " ") + std::string(buf);
  }
  return out;
}

}  // namespace

int run_failover(const BenchOptions& o) {
  if (o.size < kStampSize) {
    std::fprintf(stderr,
                 "herald bench failover: --size %zu is below the %zu-byte stamp; using %zu\n",
                 o.size, kStampSize, kStampSize);
  }
  FailoverShared fs;
  for (const std::string& url : o.reconnect_urls) {
    auto t = resolve_link_target(o, url);
    if (!t) {
      std::fprintf(stderr, "herald bench failover: --reconnect-url %s\n", t.error().c_str());
      return 2;
    }
    fs.targets.push_back(*t);
  }
  std::vector<std::string> channels = {o.ns + ":failover"};
  std::vector<std::atomic<uint32_t>> subscribers(channels.size());
  SubscriberFigures figures;
  FailoverFigures ff;
  PublisherStats pub;
  Peaks peaks;
  RunResult r = run_bench(
      o,
      [&](Shared& s, int i, std::vector<uint32_t> ids) {
        return std::make_unique<SubscriberWorker>(s, i, std::move(ids), channels, subscribers, &fs);
      },
      [&](Worker& w) {
        auto& sw = static_cast<SubscriberWorker&>(w);
        sw.finish_failover();
        figures.add(sw.figures);
        ff.add(sw.failover_figures);
      },
      [&](Shared& s) {
        std::thread watch([&] { monitor(s, o, fs, peaks); });
        Publisher publisher(s, channels, subscribers);
        publisher.run();
        pub = std::move(publisher.stats);
        watch.join();
      });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench failover: %s\n", r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
  report.add_int("size_bytes", static_cast<int64_t>(std::max(o.size, kStampSize)), "B");
  report.add("rate_requested", o.rate, "msg/s");
  report.add_int("messages_sent", static_cast<int64_t>(pub.sent));
  report.add_int("messages_accepted", static_cast<int64_t>(pub.accepted));
  report.add_int("publish_rejected", static_cast<int64_t>(pub.rejected));
  report.add_int("publish_unanswered", static_cast<int64_t>(pub.failed));
  if (!pub.first_error.empty()) {
    report.add_text("publish_first_error", pub.first_error);
  }
  report.add_int("deliveries_expected", static_cast<int64_t>(r.expected));
  report.add_int("deliveries_received", static_cast<int64_t>(r.received));
  figures.report_to(report);

  report.add_text("killed", peaks.killed ? "yes" : "no: " + peaks.kill_error);
  report.add("kill_after_s", o.kill_after_s, "s");
  report.add_int("reconnect_targets", static_cast<int64_t>(fs.targets.size()));
  report.add("reconnect_window_s", o.reconnect_window_s, "s");
  uint64_t lost = fs.lost.load();
  uint64_t back = fs.back.load();
  report.add_int("clients_lost", static_cast<int64_t>(lost));
  report.add_int("clients_back", static_cast<int64_t>(back));
  report.add_int("clients_still_away", fs.away.load());
  report.add_int("reconnect_attempts", static_cast<int64_t>(ff.attempts));
  report.add_int("reconnect_failed", static_cast<int64_t>(ff.failed_attempts));
  report.add_int("recovered_false", static_cast<int64_t>(ff.recovered_false));
  report.add_int("recovered_publications", static_cast<int64_t>(ff.recovered_publications));
  // Exact: no gap, no duplicate, recovered every time, and as many publications as the most any
  // subscriber got, which must be every one accepted.
  uint64_t top = ff.clean_by_seq.empty() ? 0 : ff.clean_by_seq.rbegin()->first;
  report.add_int(
      "clients_exact",
      static_cast<int64_t>(ff.clean_by_seq.empty() ? 0 : ff.clean_by_seq.rbegin()->second));
  report.add_int("publications_per_exact_client", static_cast<int64_t>(top));
  uint64_t kill_ns = fs.kill_ns.load();
  uint64_t last_back = fs.last_back_ns.load();
  auto s = [](uint64_t ns) { return static_cast<double>(ns) / 1e9; };
  report.add("last_back_after_kill_s",
             kill_ns != 0 && last_back > kill_ns ? s(last_back - kill_ns) : 0.0, "s");
  report.add("back_after_kill_p50_s", s(ff.back_after_kill.quantile(0.50)), "s");
  report.add("back_after_kill_p99_s", s(ff.back_after_kill.quantile(0.99)), "s");
  add_latency_figures(r.histogram, report);  // live pushes only
  std::vector<pid_t> pids = server_pid_list(o);
  if (peaks.killed && !pids.empty()) {
    report.add("survivors_cpu_pct_before_kill", peaks.cpu_pct_before, "% of one CPU");
    report.add("survivors_peak_cpu_pct", peaks.cpu_pct_sum, "% of one CPU, 100 ms");
    report.add_text("survivors_peak_cpu_pct_by_pid",
                    join_figures(pids, peaks.cpu_pct_each, "%d:%.0f"));
    report.add_int("survivors_rss_at_kill_kib", peaks.rss_before_kib, "KiB");
    report.add_int("survivors_peak_rss_kib", peaks.rss_peak_kib, "KiB");
    std::vector<double> rss_mib;
    for (long kib : peaks.rss_peak_each) {
      rss_mib.push_back(static_cast<double>(kib) / 1024.0);
    }
    report.add_text("survivors_peak_rss_mib_by_pid", join_figures(pids, rss_mib, "%d:%.1f"));
  }
  int rc = finish_report(o, r, report);
  return peaks.killed ? rc : 1;
}

}  // namespace herald::bench
