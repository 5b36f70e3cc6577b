// herald bench connect: opens --connections idle WebSocket connections (at most
// --connect-concurrency handshakes at a time), holds them for --hold seconds, and reports how
// many succeeded, how long it took and how much the server's RSS grew per connection.
#include <cstdio>

#include "modes.h"
#include "runner.h"

namespace herald::bench {
namespace {

// Thread: its own worker thread. Idle connections: any message is only counted.
class ConnectWorker : public WsWorker {
 public:
  using WsWorker::WsWorker;

 private:
  void on_message(client::Connection& conn, client::Opcode opcode,
                  std::string_view payload) override {
    (void)conn;
    (void)opcode;
    (void)payload;
    ++c_.received;
  }
};

}  // namespace

int run_connect(const BenchOptions& o) {
  RunResult r = run_bench(o, [](Shared& s, int i, std::vector<uint32_t> ids) {
    return std::make_unique<ConnectWorker>(s, i, std::move(ids));
  });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench connect: %s\n", r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
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
        // Growth after the first tenth: the marginal cost of one more idle connection.
        report.add("server_rss_per_connection_marginal_kib",
                   static_cast<double>(r.server_rss_connected_kib - r.server_rss_warm_kib) /
                       static_cast<double>(r.opened - r.server_warm_connections),
                   "KiB");
      }
    }
  }
  report.add_int("messages_received", static_cast<int64_t>(r.received));
  return finish_report(o, r, report);
}

}  // namespace herald::bench
