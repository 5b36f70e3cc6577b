#pragma once
// The skeleton every bench mode shares: worker threads that each own an epoll loop and a slice
// of the connections, and a main thread that moves them through the phases
//   connect -> measure -> drain -> close
// samples the server and the generator at the phase boundaries, prints the progress line and
// merges the results.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "herald/client/connection.h"
#include "herald/client/loop.h"
#include "histogram.h"
#include "link.h"
#include "options.h"
#include "proc_stats.h"
#include "report.h"

namespace herald::bench {

enum class Phase : int { kConnect, kMeasure, kDrain, kClose };

uint64_t now_ns();

// Where the generator sends its traffic: the parsed --url (ws:// or wss://) and its address,
// loopback only.
struct Target {
  client::ServerUrl url;
  client::Endpoint endpoint;
};
Result<Target> resolve_target(const std::string& url);
// The links' target for o: url (one of --url), and --tcp when the transport is tcp (loopback
// only too), with the WebSocket clients' options; over TLS (wss:// or --tcp tls://) one TLS
// context made from --ca-file / --insecure-skip-tls-verify, shared by every connection of the run.
Result<LinkTarget> resolve_link_target(const BenchOptions& o, const std::string& url);
// The options of the generator's WebSocket clients (without TLS).
client::ConnectionOptions ws_connection_options(const BenchOptions& o);
// The TLS context of o's clients.
Result<std::shared_ptr<const client::TlsClientContext>> make_tls_context(const BenchOptions& o);

// What the main thread and all workers share. Written by the main thread except where noted.
struct Shared {
  const BenchOptions* options = nullptr;
  client::ServerUrl url;
  client::Endpoint endpoint;
  LinkTarget link;  // where the subscriber modes' links connect; link.ws_options for every
                    // WebSocket client of the run (TLS context included)
  std::vector<LinkTarget> links;  // one per --url (links[0] is link): subscriber i uses i % size
  client::ServerUrl publish_url;  // --publish-url (else --url): where the publisher goes
  client::Endpoint publish_endpoint;
  std::atomic<int> phase{static_cast<int>(Phase::kConnect)};
  std::atomic<uint64_t> measure_start_ns{0};
  std::atomic<uint64_t> measure_end_ns{0};
  std::atomic<int64_t> open_connections{0};  // workers add/subtract as connections open/close
  std::mutex error_mutex;
  std::string first_error;  // the first connect/handshake failure, for the report

  // An auxiliary thread beside the workers (the publisher of fanout/channels), written by it:
  std::atomic<bool> aux_ready{true};        // false until its own connections are up
  std::atomic<uint64_t> aux_sent{0};        // messages it sent
  std::atomic<uint64_t> aux_expected{0};    // deliveries the workers should see because of them
  std::atomic<int64_t> aux_outstanding{0};  // its requests still without an answer

  void set_first_error(const std::string& what) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (first_error.empty()) {
      first_error = what;
    }
  }
};

// Counters a worker publishes once per loop iteration (relaxed), so that the hot path works on
// plain integers and the main thread still sees live figures.
struct Published {
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> lost{0};  // connections that closed before the close phase
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> send_refused{0};
  std::atomic<uint64_t> expected{0};
  std::atomic<bool> connect_done{false};
  std::atomic<bool> drained{false};
};

// One generator thread: an event loop, its connections (one per id, by slot) and the mode's
// traffic. Which kind of connection is the subclass's business: WebSocket clients (WsWorker:
// echo, broadcast, connect) or Herald protocol links over any transport (the subscriber modes).
// Thread: created by the main thread, then used only by its own thread until joined.
class Worker {
 public:
  Worker(Shared& shared, int index, std::vector<uint32_t> ids);
  virtual ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();

  Published published;
  LatencyHistogram histogram;
  uint64_t received_in_window = 0;  // read after join

 protected:
  struct Counters {
    uint64_t opened = 0, failed = 0, lost = 0, sent = 0, received = 0, send_refused = 0;
    uint64_t expected = 0;
  };

  // Mode hooks, all on the worker thread.
  virtual void on_measure_start(uint64_t now) { (void)now; }
  virtual void on_tick(uint64_t now) { (void)now; }        // once per loop iteration in kMeasure
  virtual void on_drain_tick(uint64_t now) { (void)now; }  // the same in kDrain
  virtual int timeout_ms(uint64_t now) {
    (void)now;
    return 50;
  }

  // The connections, by slot (0 .. ids_.size() - 1). start_slot starts one (false when it
  // failed at once, *err the errno); slot_active says it is started and not yet closed;
  // close_slot leaves politely, abort_slot at once.
  virtual bool start_slot(size_t slot, int* err) = 0;
  virtual bool slot_active(size_t slot) const = 0;
  virtual void close_slot(size_t slot) = 0;
  virtual void abort_slot(size_t slot) = 0;
  // The subclass reports when a slot's connection opens and when it ends: one that ends before
  // it opened failed to connect (why is kept for the report), one that ends while open before
  // the close phase was lost.
  void slot_opened(size_t slot);
  void slot_ended(size_t slot, std::string_view why);

  bool measuring() const { return phase_ == Phase::kMeasure; }
  const BenchOptions& options() const { return *shared_.options; }

  Shared& shared_;
  int index_;
  std::vector<uint32_t> ids_;  // global connection numbers, by slot
  client::Loop loop_;
  Counters c_;
  Phase phase_ = Phase::kConnect;

 private:
  void start_more_connections();
  void publish();
  void close_all();

  std::vector<uint8_t> is_open_;  // by slot: 1 while open
  size_t next_to_start_ = 0;
  size_t pending_ = 0;
};

// A Worker over WebSocket clients: the modes that measure WebSockets as such (echo, broadcast,
// connect). Subclasses that override on_open/on_close call these first.
// Thread: as Worker.
class WsWorker : public Worker, public client::ConnectionHandler {
 public:
  WsWorker(Shared& shared, int index, std::vector<uint32_t> ids);
  ~WsWorker() override;

 protected:
  void on_open(client::Connection& conn) override;
  void on_close(client::Connection& conn, const client::CloseInfo& info) override;

  std::vector<std::unique_ptr<client::Connection>> conns_;  // by slot (user_data = slot)
  std::vector<client::Connection*> open_;  // open connections, for round-robin senders

 private:
  bool start_slot(size_t slot, int* err) override;
  bool slot_active(size_t slot) const override;
  void close_slot(size_t slot) override;
  void abort_slot(size_t slot) override;
};

using WorkerFactory = std::function<std::unique_ptr<Worker>(Shared&, int, std::vector<uint32_t>)>;

// What the runner measured, for the mode to turn into a report.
struct RunResult {
  bool ok = false;
  std::string error;
  uint64_t opened = 0, failed = 0, lost = 0, sent = 0, received = 0, send_refused = 0;
  uint64_t expected = 0, received_in_window = 0;
  double connect_s = 0;  // start of connect phase until every connect finished
  double measure_s = 0;
  double drain_s = 0;
  bool server_sampled = false;
  double server_cpu_connect_s = 0;  // during the connect phase
  double server_cpu_measure_s = 0;  // during the measured phase
  double server_cpu_total_s = 0;    // measured phase + drain
  long server_rss_start_kib = 0, server_rss_connected_kib = 0, server_rss_end_kib = 0;
  long server_rss_warm_kib = 0;          // sampled when a tenth of the connections were open
  uint64_t server_warm_connections = 0;  // how many were open at that sample
  std::vector<double> server_cpu_measure_by_pid;  // per --server-pid, in their order
  bool redis_sampled = false;                     // --redis-pid
  double redis_cpu_connect_s = 0, redis_cpu_measure_s = 0, redis_cpu_total_s = 0;
  long redis_rss_end_kib = 0;
  double self_cpu_measure_s = 0, self_cpu_total_s = 0, self_cpu_connect_s = 0;
  bool machine_sampled = false;
  double machine_busy_measure_s = 0;  // all CPUs, during the measured phase
  long self_rss_kib = 0;
  LatencyHistogram histogram;
  std::string first_error;
};

// Runs the phases with workers from factory. Blocking; returns after every thread is joined.
// after_join, if set, sees each worker once its thread has ended (the workers are destroyed
// before run_bench returns: copy what you need out of them there).
// aux, if set, runs in a thread of its own from the start until the close phase begins; it sees
// the phases in Shared, must set aux_ready once it can work, and must return soon after
// Phase::kClose. The connect phase waits for aux_ready, the drain for aux_outstanding == 0.
RunResult run_bench(const BenchOptions& options, const WorkerFactory& factory,
                    const std::function<void(Worker&)>& after_join = {},
                    const std::function<void(Shared&)>& aux = {});

const char* mode_name(Mode mode);

// The servers under test at one instant: every --server-pid (a cluster's nodes), summed and one
// by one, and the Redis of --redis-pid.
struct ServersSample {
  ProcSample sum;
  std::vector<ProcSample> each;
  std::optional<ProcSample> redis;
};
// nullopt when a process cannot be read (gone).
std::optional<ServersSample> sample_servers(const BenchOptions& o);
// The --server-pid list (server_pids, or server_pid alone).
std::vector<pid_t> server_pid_list(const BenchOptions& o);

// Adds the common figures (connections, generator and server CPU, latency) to report.
void add_common_figures(const BenchOptions& options, const RunResult& r, Report& report);
// The machine's busy CPU during a window and the part of it that was neither the server's nor
// the generator's (other_cpu_pct: above a few % the machine was not quiet).
void add_machine_figures(double busy_s, double server_cpu_s, bool server_sampled,
                         double generator_cpu_s, double window_s, Report& report);
void add_latency_figures(const LatencyHistogram& h, Report& report);

// Prints report (text or JSON) on stdout; returns the process exit code.
int finish_report(const BenchOptions& options, const RunResult& r, const Report& report);

}  // namespace herald::bench
