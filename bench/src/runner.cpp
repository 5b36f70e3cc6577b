#include "runner.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "proc_stats.h"

namespace herald::bench {

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

Result<Target> resolve_target(const std::string& url) {
  Target t;
  client::UrlError url_error = client::parse_ws_url(url, t.url);
  if (url_error != client::UrlError::kNone) {
    return Error{url + ": " + std::string(client::to_string(url_error))};
  }
  auto endpoint = client::resolve(t.url);
  if (!endpoint) {
    return Error{endpoint.error()};
  }
  if (!endpoint->is_loopback()) {
    return Error{"refusing " + url + " (" + endpoint->to_string() +
                 "): herald bench only targets loopback (127.0.0.0/8, localhost, ::1)"};
  }
  t.endpoint = *endpoint;
  return t;
}

Result<std::shared_ptr<const client::TlsClientContext>> make_tls_context(const BenchOptions& o) {
  client::TlsOptions tls;
  tls.ca_file = o.ca_file;
  tls.verify = !o.insecure_skip_tls_verify;
  return client::TlsClientContext::create(tls);
}

Result<LinkTarget> resolve_link_target(const BenchOptions& o, const std::string& url) {
  auto http = resolve_target(url);
  if (!http) {
    return Error{http.error()};
  }
  LinkTarget t;
  t.transport = o.transport;
  t.url = http->url;
  t.http = http->endpoint;
  t.ws_options = ws_connection_options(o);
  bool tls = t.url.tls();
  if (o.transport == Transport::kTcp) {
    std::string address = o.tcp_address;
    if (address.find("://") == std::string::npos) {
      address = "tcp://" + address;  // HOST:PORT
    }
    if (address == "tcp://") {
      return Error{"--transport tcp needs --tcp HOST:PORT (herald serve --tcp-listen)"};
    }
    client::UrlError err = client::parse_server_url(address, t.tcp_url);
    if (err != client::UrlError::kNone || t.tcp_url.websocket()) {
      return Error{"--tcp " + o.tcp_address + ": expected HOST:PORT, tcp://HOST:PORT or " +
                   "tls://HOST:PORT"};
    }
    auto tcp = client::resolve(t.tcp_url);
    if (!tcp) {
      return Error{"--tcp " + o.tcp_address + ": " + tcp.error()};
    }
    if (!tcp->is_loopback()) {
      return Error{"refusing --tcp " + o.tcp_address + ": herald bench only targets loopback"};
    }
    t.tcp = *tcp;
    tls = tls || t.tcp_url.tls();
  }
  if (tls) {
    auto ctx = make_tls_context(o);
    if (!ctx) {
      return Error{ctx.error()};
    }
    t.ws_options.tls = *ctx;
  }
  return t;
}

std::vector<pid_t> server_pid_list(const BenchOptions& o) {
  if (!o.server_pids.empty()) {
    return o.server_pids;
  }
  if (o.server_pid > 0) {
    return {o.server_pid};
  }
  return {};
}

std::optional<ServersSample> sample_servers(const BenchOptions& o) {
  ServersSample s;
  for (pid_t pid : server_pid_list(o)) {
    auto one = sample_process(pid);
    if (!one) {
      return std::nullopt;
    }
    s.sum.cpu_seconds += one->cpu_seconds;
    s.sum.rss_kib += one->rss_kib;
    s.each.push_back(*one);
  }
  if (o.redis_pid > 0) {
    s.redis = sample_process(o.redis_pid);
    if (!s.redis) {
      return std::nullopt;
    }
  }
  return s;
}

namespace {

constexpr double kCloseTimeoutS = 2.0;

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

double seconds_since(uint64_t start) {
  return static_cast<double>(now_ns() - start) / 1e9;
}

}  // namespace

client::ConnectionOptions ws_connection_options(const BenchOptions& o) {
  client::ConnectionOptions c;
  c.offer_deflate = o.deflate;
  // The payloads are ASCII and checked by the parser of the message itself; validating UTF-8
  // here would only measure the generator.
  c.validate_utf8 = false;
  c.max_output_bytes = 4u << 20;
  return c;
}

Worker::Worker(Shared& shared, int index, std::vector<uint32_t> ids)
    : shared_(shared), index_(index), ids_(std::move(ids)), is_open_(ids_.size(), 0) {}

Worker::~Worker() = default;

void Worker::slot_opened(size_t slot) {
  ++c_.opened;
  --pending_;
  is_open_[slot] = 1;
  shared_.open_connections.fetch_add(1, std::memory_order_relaxed);
}

void Worker::slot_ended(size_t slot, std::string_view why) {
  if (is_open_[slot] != 0) {
    is_open_[slot] = 0;
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    if (phase_ != Phase::kClose) {
      ++c_.lost;
    }
    return;
  }
  --pending_;
  ++c_.failed;
  shared_.set_first_error(std::string(why));
}

void Worker::start_more_connections() {
  const BenchOptions& o = options();
  size_t limit = static_cast<size_t>(std::max(1, o.connect_concurrency / o.threads));
  while (pending_ < limit && next_to_start_ < ids_.size()) {
    int err = 0;
    if (start_slot(next_to_start_++, &err)) {
      ++pending_;
      continue;
    }
    ++c_.failed;
    shared_.set_first_error(std::string("connect: ") + std::strerror(err));
  }
}

void Worker::publish() {
  published.opened.store(c_.opened, std::memory_order_relaxed);
  published.failed.store(c_.failed, std::memory_order_relaxed);
  published.lost.store(c_.lost, std::memory_order_relaxed);
  published.sent.store(c_.sent, std::memory_order_relaxed);
  published.received.store(c_.received, std::memory_order_relaxed);
  published.send_refused.store(c_.send_refused, std::memory_order_relaxed);
  published.expected.store(c_.expected, std::memory_order_relaxed);
}

void Worker::run() {
  while (true) {
    auto phase = static_cast<Phase>(shared_.phase.load(std::memory_order_acquire));
    uint64_t now = now_ns();
    if (phase != phase_) {
      phase_ = phase;
      if (phase_ == Phase::kMeasure) {
        on_measure_start(now);
      }
      if (phase_ == Phase::kClose) {
        break;
      }
    }
    int timeout = 10;
    if (phase_ == Phase::kConnect) {
      start_more_connections();
      if (next_to_start_ == ids_.size() && pending_ == 0) {
        published.connect_done.store(true, std::memory_order_release);
      }
    } else if (phase_ == Phase::kMeasure) {
      on_tick(now);
      timeout = timeout_ms(now);
    } else if (phase_ == Phase::kDrain) {
      on_drain_tick(now);
    }
    uint64_t before = c_.received;
    loop_.run_once(timeout);
    if (phase_ == Phase::kMeasure) {
      received_in_window += c_.received - before;
    }
    publish();
  }
  close_all();
  publish();
}

void Worker::close_all() {
  for (size_t slot = 0; slot < is_open_.size(); ++slot) {
    if (is_open_[slot] != 0) {
      close_slot(slot);
    }
  }
  uint64_t deadline = now_ns() + static_cast<uint64_t>(kCloseTimeoutS * 1e9);
  // Bounded: servers close TCP after the close handshake; whoever has not by the deadline is
  // dropped.
  while (now_ns() < deadline) {
    bool any = false;
    for (size_t slot = 0; slot < is_open_.size() && !any; ++slot) {
      any = slot_active(slot);
    }
    if (!any) {
      break;
    }
    loop_.run_once(10);
  }
  for (size_t slot = 0; slot < is_open_.size(); ++slot) {
    abort_slot(slot);
  }
}

WsWorker::WsWorker(Shared& shared, int index, std::vector<uint32_t> ids)
    : Worker(shared, index, std::move(ids)) {
  const client::ConnectionOptions& co = shared.link.ws_options;
  conns_.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    conns_.push_back(std::make_unique<client::Connection>(loop_, *this, co));
    conns_.back()->user_data = i;
  }
  open_.reserve(ids_.size());
}

WsWorker::~WsWorker() = default;

void WsWorker::on_open(client::Connection& conn) {
  open_.push_back(&conn);
  slot_opened(static_cast<size_t>(conn.user_data));
}

void WsWorker::on_close(client::Connection& conn, const client::CloseInfo& info) {
  auto it = std::find(open_.begin(), open_.end(), &conn);
  if (it != open_.end()) {
    *it = open_.back();
    open_.pop_back();
  }
  slot_ended(static_cast<size_t>(conn.user_data), info.describe());
}

bool WsWorker::start_slot(size_t slot, int* err) {
  client::Connection& conn = *conns_[slot];
  if (conn.start(shared_.endpoint, shared_.url)) {
    return true;
  }
  *err = conn.last_errno();
  return false;
}

bool WsWorker::slot_active(size_t slot) const {
  auto s = conns_[slot]->state();
  return s != client::Connection::State::kClosed && s != client::Connection::State::kIdle;
}

void WsWorker::close_slot(size_t slot) { conns_[slot]->close(1000, "bench done"); }

void WsWorker::abort_slot(size_t slot) { conns_[slot]->abort(); }

namespace {

struct Totals {
  uint64_t opened = 0, failed = 0, lost = 0, sent = 0, received = 0, send_refused = 0;
  uint64_t expected = 0;
  bool connect_done = true;
};

Totals totals(const std::vector<std::unique_ptr<Worker>>& workers, const Shared& shared) {
  Totals t;
  t.sent = shared.aux_sent.load(std::memory_order_relaxed);
  t.expected = shared.aux_expected.load(std::memory_order_relaxed);
  t.connect_done = shared.aux_ready.load(std::memory_order_acquire);
  for (const auto& w : workers) {
    const Published& p = w->published;
    t.opened += p.opened.load(std::memory_order_relaxed);
    t.failed += p.failed.load(std::memory_order_relaxed);
    t.lost += p.lost.load(std::memory_order_relaxed);
    t.sent += p.sent.load(std::memory_order_relaxed);
    t.received += p.received.load(std::memory_order_relaxed);
    t.send_refused += p.send_refused.load(std::memory_order_relaxed);
    t.expected += p.expected.load(std::memory_order_relaxed);
    t.connect_done = t.connect_done && p.connect_done.load(std::memory_order_acquire);
  }
  return t;
}

std::string human(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  }
  return buf;
}

// The live line on stderr, rewritten in place once per second.
class Progress {
 public:
  Progress(const BenchOptions& o, const char* mode) : o_(o), mode_(mode) {}

  void update(const char* phase, const Totals& t, double elapsed) {
    if (o_.quiet) {
      return;
    }
    uint64_t now = now_ns();
    if (last_ns_ != 0 && now - last_ns_ < 1000000000ULL) {
      return;
    }
    double dt = last_ns_ == 0 ? 0 : static_cast<double>(now - last_ns_) / 1e9;
    std::string line = std::string("\r[bench ") + mode_ + "] " + phase + " " +
                       std::to_string(static_cast<int>(elapsed)) + "s  conns " +
                       std::to_string(t.opened - t.lost) + "/" + std::to_string(o_.connections);
    if (t.failed > 0) {
      line += " (" + std::to_string(t.failed) + " failed)";
    }
    if (dt > 0) {
      line += "  sent " + human(static_cast<double>(t.sent - last_.sent) / dt) + "/s  recv " +
              human(static_cast<double>(t.received - last_.received) / dt) + "/s";
    }
    ProcSample self = sample_self();
    if (dt > 0) {
      line += "  gen cpu " +
              std::to_string(static_cast<int>(100 * (self.cpu_seconds - last_self_cpu_) / dt)) +
              "%";
    }
    last_self_cpu_ = self.cpu_seconds;
    if (o_.server_pid > 0) {
      if (auto s = sample_servers(o_)) {
        if (dt > 0) {
          line += "  server cpu " +
                  std::to_string(
                      static_cast<int>(100 * (s->sum.cpu_seconds - last_server_cpu_) / dt)) +
                  "%";
        }
        last_server_cpu_ = s->sum.cpu_seconds;
      }
    }
    line += "    ";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    last_ = t;
    last_ns_ = now;
  }

  void done() {
    if (!o_.quiet && last_ns_ != 0) {
      std::fputs("\n", stderr);
    }
  }

 private:
  const BenchOptions& o_;
  const char* mode_;
  Totals last_;
  uint64_t last_ns_ = 0;
  double last_self_cpu_ = 0;
  double last_server_cpu_ = 0;
};

}  // namespace

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kEcho:
      return "echo";
    case Mode::kBroadcast:
      return "broadcast";
    case Mode::kConnect:
      return "connect";
    case Mode::kFanout:
      return "fanout";
    case Mode::kChannels:
      return "channels";
    case Mode::kIdle:
      return "idle";
    case Mode::kHistory:
      return "history";
    case Mode::kRecovery:
      return "recovery";
    case Mode::kFailover:
      return "failover";
  }
  return "?";
}

RunResult run_bench(const BenchOptions& o, const WorkerFactory& factory,
                    const std::function<void(Worker&)>& after_join,
                    const std::function<void(Shared&)>& aux) {
  RunResult r;
  Shared shared;
  shared.options = &o;
  auto target = resolve_target(o.url);
  if (!target) {
    r.error = target.error();
    return r;
  }
  shared.url = target->url;
  shared.endpoint = target->endpoint;
  for (const std::string& url : o.urls.empty() ? std::vector<std::string>{o.url} : o.urls) {
    auto link = resolve_link_target(o, url);
    if (!link) {
      r.error = link.error();
      return r;
    }
    shared.links.push_back(*link);
  }
  shared.link = shared.links.front();
  shared.publish_url = shared.url;
  shared.publish_endpoint = shared.endpoint;
  if (!o.publish_url.empty()) {
    auto publish = resolve_target(o.publish_url);
    if (!publish) {
      r.error = "--publish-url: " + publish.error();
      return r;
    }
    shared.publish_url = publish->url;
    shared.publish_endpoint = publish->endpoint;
  }
  // An SSE link opens a second connection for each POST while it connects.
  long want = o.connections + o.connect_concurrency + 64L * o.threads + 64;
  long have = raise_fd_limit(want);
  if (have < want) {
    r.error = "need " + std::to_string(want) + " file descriptors, RLIMIT_NOFILE allows " +
              std::to_string(have) + " (raise the hard limit: ulimit -Hn)";
    return r;
  }

  std::optional<ServersSample> server0;
  if (o.server_pid > 0) {
    server0 = sample_servers(o);
    if (!server0) {
      r.error = "cannot read /proc/PID/stat of a --server-pid or --redis-pid";
      return r;
    }
    r.server_rss_start_kib = server0->sum.rss_kib;
  }
  ProcSample self0 = sample_self();

  std::vector<std::vector<uint32_t>> ids(static_cast<size_t>(o.threads));
  for (int i = 0; i < o.connections; ++i) {
    ids[static_cast<size_t>(i % o.threads)].push_back(static_cast<uint32_t>(i));
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.push_back(factory(shared, t, std::move(ids[static_cast<size_t>(t)])));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w] { w->run(); });
  }
  if (aux) {
    shared.aux_ready.store(false, std::memory_order_release);
    threads.emplace_back([&aux, &shared] { aux(shared); });
  }
  Progress progress(o, mode_name(o.mode));

  // Connect.
  uint64_t t0 = now_ns();
  uint64_t connect_deadline = t0 + static_cast<uint64_t>(o.connect_timeout_s * 1e9);
  Totals t = totals(workers, shared);
  // A second RSS sample once a tenth of the connections are open: RSS growth from there on is
  // what connections cost, without the one-time growth of a server's first connections (code
  // pages faulted in, pools and buffers created), which would otherwise be spread over them.
  uint64_t warm_at = static_cast<uint64_t>(o.connections) / 10;
  while (!t.connect_done && now_ns() < connect_deadline) {
    sleep_ms(5);
    t = totals(workers, shared);
    if (server0 && warm_at > 0 && r.server_rss_warm_kib == 0 && t.opened >= warm_at) {
      if (auto warm = sample_servers(o)) {
        r.server_rss_warm_kib = warm->sum.rss_kib;
        r.server_warm_connections = t.opened;
      }
    }
    progress.update("connect", t, seconds_since(t0));
  }
  r.connect_s = seconds_since(t0);
  if (o.mode == Mode::kConnect || o.mode == Mode::kIdle) {
    sleep_ms(200);  // let the server finish its bookkeeping for the last handshakes
  }
  std::optional<ServersSample> server1;
  if (server0) {
    server1 = sample_servers(o);
  }
  ProcSample self1 = sample_self();
  std::optional<MachineSample> machine1 = sample_machine();

  // Measure.
  uint64_t m0 = now_ns();
  shared.measure_start_ns.store(m0);
  shared.phase.store(static_cast<int>(Phase::kMeasure), std::memory_order_release);
  uint64_t m_end = m0 + static_cast<uint64_t>(o.duration_s * 1e9);
  while (t.opened > 0 && now_ns() < m_end) {
    sleep_ms(std::clamp(static_cast<int>((m_end - now_ns()) / 1000000), 0, 20));
    t = totals(workers, shared);
    progress.update("run", t, seconds_since(m0));
  }
  shared.phase.store(static_cast<int>(Phase::kDrain), std::memory_order_release);
  r.measure_s = seconds_since(m0);
  shared.measure_end_ns.store(now_ns());
  std::optional<ServersSample> server2;
  if (server0) {
    server2 = sample_servers(o);
  }
  ProcSample self2 = sample_self();
  std::optional<MachineSample> machine2 = sample_machine();

  // Drain: wait for the replies/deliveries still in flight, bounded by --drain.
  uint64_t d0 = now_ns();
  uint64_t d_end = d0 + static_cast<uint64_t>(o.drain_s * 1e9);
  t = totals(workers, shared);
  while ((t.received < t.expected || shared.aux_outstanding.load(std::memory_order_relaxed) > 0) &&
         now_ns() < d_end) {
    sleep_ms(10);
    t = totals(workers, shared);
    progress.update("drain", t, seconds_since(d0));
  }
  r.drain_s = seconds_since(d0);
  std::optional<ServersSample> server3;
  if (server0) {
    server3 = sample_servers(o);
  }
  ProcSample self3 = sample_self();
  progress.done();

  shared.phase.store(static_cast<int>(Phase::kClose), std::memory_order_release);
  for (auto& th : threads) {
    th.join();
  }

  t = totals(workers, shared);
  r.opened = t.opened;
  r.failed = t.failed;
  r.lost = t.lost;
  r.sent = t.sent;
  r.received = t.received;
  r.send_refused = t.send_refused;
  r.expected = t.expected;
  for (const auto& w : workers) {
    r.histogram.merge(w->histogram);
    r.received_in_window += w->received_in_window;
    if (after_join) {
      after_join(*w);
    }
  }
  if (server1 && server2 && server3) {
    r.server_sampled = true;
    r.server_cpu_connect_s = server1->sum.cpu_seconds - server0->sum.cpu_seconds;
    r.server_cpu_measure_s = server2->sum.cpu_seconds - server1->sum.cpu_seconds;
    r.server_cpu_total_s = server3->sum.cpu_seconds - server1->sum.cpu_seconds;
    r.server_rss_connected_kib = server1->sum.rss_kib;
    r.server_rss_end_kib = server3->sum.rss_kib;
    for (size_t i = 0; i < server1->each.size(); ++i) {
      r.server_cpu_measure_by_pid.push_back(server2->each[i].cpu_seconds -
                                            server1->each[i].cpu_seconds);
    }
    if (server0->redis && server1->redis && server2->redis && server3->redis) {
      r.redis_sampled = true;
      r.redis_cpu_connect_s = server1->redis->cpu_seconds - server0->redis->cpu_seconds;
      r.redis_cpu_measure_s = server2->redis->cpu_seconds - server1->redis->cpu_seconds;
      r.redis_cpu_total_s = server3->redis->cpu_seconds - server1->redis->cpu_seconds;
      r.redis_rss_end_kib = server3->redis->rss_kib;
    }
  }
  r.self_cpu_connect_s = self1.cpu_seconds - self0.cpu_seconds;
  r.self_cpu_measure_s = self2.cpu_seconds - self1.cpu_seconds;
  r.self_cpu_total_s = self3.cpu_seconds - self1.cpu_seconds;
  r.self_rss_kib = self3.rss_kib;
  if (machine1 && machine2) {
    r.machine_sampled = true;
    r.machine_busy_measure_s = machine2->busy_seconds - machine1->busy_seconds;
  }
  r.first_error = shared.first_error;
  r.ok = r.opened > 0;
  if (!r.ok) {
    r.error = "no connection could be opened" +
              (r.first_error.empty() ? std::string() : ": " + r.first_error);
  }
  return r;
}

void add_latency_figures(const LatencyHistogram& h, Report& report) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  report.add_int("latency_samples", static_cast<int64_t>(h.count()));
  report.add("latency_p50_us", us(h.quantile(0.50)), "us");
  report.add("latency_p90_us", us(h.quantile(0.90)), "us");
  report.add("latency_p99_us", us(h.quantile(0.99)), "us");
  report.add("latency_p999_us", us(h.quantile(0.999)), "us");
  report.add("latency_max_us", us(h.max()), "us");
}

void add_common_figures(const BenchOptions& o, const RunResult& r, Report& report) {
  report.add_text("mode", mode_name(o.mode));
  report.add_text("url", o.url);
  report.add_int("threads", o.threads);
  report.add_int("connections", o.connections);
  report.add_int("connected", static_cast<int64_t>(r.opened));
  report.add_int("connect_failed", static_cast<int64_t>(r.failed));
  report.add_int("disconnected_during_run", static_cast<int64_t>(r.lost));
  report.add("connect_s", r.connect_s, "s");
  report.add("measure_s", r.measure_s, "s");
  report.add("generator_cpu_s", r.self_cpu_measure_s, "s");
  report.add("generator_cpu_pct", r.measure_s > 0 ? 100 * r.self_cpu_measure_s / r.measure_s : 0,
             "%");
  report.add_int("generator_rss_kib", r.self_rss_kib, "KiB");
  if (r.server_sampled) {
    report.add_int("server_pid", o.server_pid);
    report.add("server_cpu_s", r.server_cpu_measure_s, "s");
    report.add("server_cpu_pct", r.measure_s > 0 ? 100 * r.server_cpu_measure_s / r.measure_s : 0,
               "%");
    report.add("server_cpu_with_drain_s", r.server_cpu_total_s, "s");
    report.add_int("server_rss_start_kib", r.server_rss_start_kib, "KiB");
    report.add_int("server_rss_connected_kib", r.server_rss_connected_kib, "KiB");
    report.add_int("server_rss_end_kib", r.server_rss_end_kib, "KiB");
    if (r.server_cpu_measure_by_pid.size() > 1) {
      // Several nodes: each one's share, to see where the CPU went ("pid:% pid:% ...").
      std::string each;
      std::vector<pid_t> pids = server_pid_list(o);
      for (size_t i = 0; i < r.server_cpu_measure_by_pid.size(); ++i) {
        char buf[48];
        std::snprintf(buf, sizeof(buf), "%s%d:%.1f", i == 0 ? "" : " ", static_cast<int>(pids[i]),
                      r.measure_s > 0 ? 100 * r.server_cpu_measure_by_pid[i] / r.measure_s : 0.0);
        each += buf;
      }
      report.add_int("server_processes", static_cast<int64_t>(pids.size()));
      report.add_text("server_cpu_pct_by_pid", each);
    }
  }
  if (r.redis_sampled) {
    report.add_int("redis_pid", o.redis_pid);
    report.add("redis_connect_cpu_s", r.redis_cpu_connect_s, "s");
    report.add("redis_cpu_s", r.redis_cpu_measure_s, "s");
    report.add("redis_cpu_pct", r.measure_s > 0 ? 100 * r.redis_cpu_measure_s / r.measure_s : 0,
               "%");
    report.add("redis_cpu_with_drain_s", r.redis_cpu_total_s, "s");
    report.add_int("redis_rss_end_kib", r.redis_rss_end_kib, "KiB");
  }
  if (r.machine_sampled) {
    add_machine_figures(r.machine_busy_measure_s, r.server_cpu_measure_s + r.redis_cpu_measure_s,
                        r.server_sampled, r.self_cpu_measure_s, r.measure_s, report);
  }
  if (!r.first_error.empty()) {
    report.add_text("first_error", r.first_error);
  }
}

void add_machine_figures(double busy_s, double server_cpu_s, bool server_sampled,
                         double generator_cpu_s, double window_s, Report& report) {
  if (window_s <= 0) {
    return;
  }
  report.add("machine_busy_pct", 100 * busy_s / window_s, "% of one CPU");
  if (server_sampled) {
    report.add("other_cpu_pct", 100 * (busy_s - server_cpu_s - generator_cpu_s) / window_s,
               "% of one CPU");
  }
}

int finish_report(const BenchOptions& o, const RunResult& r, const Report& report) {
  if (o.json) {
    std::printf("%s\n", report.to_json().c_str());
  } else {
    std::fputs(report.to_text().c_str(), stdout);
  }
  std::fflush(stdout);
  return r.ok ? 0 : 1;
}

}  // namespace herald::bench
