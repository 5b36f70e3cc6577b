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
#include <string>
#include <thread>
#include <vector>

#include "herald/client/connection.h"
#include "herald/client/loop.h"
#include "histogram.h"
#include "options.h"
#include "report.h"

namespace herald::bench {

enum class Phase : int { kConnect, kMeasure, kDrain, kClose };

uint64_t now_ns();

// What the main thread and all workers share. Written by the main thread except where noted.
struct Shared {
  const BenchOptions* options = nullptr;
  client::WsUrl url;
  client::Endpoint endpoint;
  std::atomic<int> phase{static_cast<int>(Phase::kConnect)};
  std::atomic<uint64_t> measure_start_ns{0};
  std::atomic<uint64_t> measure_end_ns{0};
  std::atomic<int64_t> open_connections{0};  // workers add/subtract as connections open/close
  std::mutex error_mutex;
  std::string first_error;  // the first connect/handshake failure, for the report
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

// One generator thread: an event loop, its connections and the mode's traffic.
// Thread: created by the main thread, then used only by its own thread until joined.
class Worker : public client::ConnectionHandler {
 public:
  Worker(Shared& shared, int index, std::vector<uint32_t> ids);
  ~Worker() override;

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
  virtual void on_tick(uint64_t now) { (void)now; }  // once per loop iteration in kMeasure
  virtual int timeout_ms(uint64_t now) {
    (void)now;
    return 50;
  }
  virtual bool is_drained() const { return true; }

  void on_open(client::Connection& conn) override;
  void on_close(client::Connection& conn, const client::CloseInfo& info) override;

  bool measuring() const { return phase_ == Phase::kMeasure; }
  const BenchOptions& options() const { return *shared_.options; }

  Shared& shared_;
  int index_;
  std::vector<uint32_t> ids_;  // global connection numbers, parallel to conns_
  client::Loop loop_;
  std::vector<std::unique_ptr<client::Connection>> conns_;
  std::vector<client::Connection*> open_;  // open connections, for round-robin senders
  Counters c_;
  Phase phase_ = Phase::kConnect;

 private:
  void start_more_connections();
  void publish();
  void close_all();

  size_t next_to_start_ = 0;
  size_t pending_ = 0;
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
  long server_rss_warm_kib = 0;        // sampled when a tenth of the connections were open
  uint64_t server_warm_connections = 0;  // how many were open at that sample
  double self_cpu_measure_s = 0, self_cpu_total_s = 0, self_cpu_connect_s = 0;
  long self_rss_kib = 0;
  LatencyHistogram histogram;
  std::string first_error;
};

// Runs the phases with workers from factory. Blocking; returns after every thread is joined.
// after_join, if set, sees each worker once its thread has ended (the workers are destroyed
// before run_bench returns: copy what you need out of them there).
RunResult run_bench(const BenchOptions& options, const WorkerFactory& factory,
                    const std::function<void(Worker&)>& after_join = {});

// Adds the common figures (connections, generator and server CPU, latency) to report.
void add_common_figures(const BenchOptions& options, const RunResult& r, Report& report);
void add_latency_figures(const LatencyHistogram& h, Report& report);

// Prints report (text or JSON) on stdout; returns the process exit code.
int finish_report(const BenchOptions& options, const RunResult& r, const Report& report);

}  // namespace herald::bench
