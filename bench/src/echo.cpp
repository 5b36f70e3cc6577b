// herald bench echo: every connection keeps --in-flight messages outstanding against /echo and
// sends the next one as soon as a reply arrives; latency is reply time minus send time.
#include <cstdio>

#include "modes.h"
#include "runner.h"

namespace herald::bench {
namespace {

// Thread: its own worker thread.
class EchoWorker : public WsWorker {
 public:
  EchoWorker(Shared& shared, int index, std::vector<uint32_t> ids)
      : WsWorker(shared, index, std::move(ids)),
        depth_(static_cast<size_t>(options().in_flight)),
        ring_(conns_.size() * depth_, 0),
        head_(conns_.size(), 0),
        count_(conns_.size(), 0) {
    // Bytes that are not all one value, so a server that mangles payloads is not flattered by
    // compression or lucky masking.
    payload_.resize(options().size);
    for (size_t i = 0; i < payload_.size(); ++i) {
      payload_[i] = static_cast<char>('a' + i % 26);
    }
  }

 private:
  void on_measure_start(uint64_t now) override {
    for (client::Connection* conn : open_) {
      for (size_t k = 0; k < depth_; ++k) {
        send_one(*conn, now);
      }
    }
  }

  int timeout_ms(uint64_t now) override {
    (void)now;
    return 50;  // purely reactive
  }

  void send_one(client::Connection& conn, uint64_t now) {
    auto i = static_cast<size_t>(conn.user_data);
    if (count_[i] >= depth_ || !conn.send_binary(payload_)) {
      ++c_.send_refused;
      return;
    }
    ring_[i * depth_ + (head_[i] + count_[i]) % depth_] = now;
    ++count_[i];
    ++c_.sent;
    ++c_.expected;
  }

  void on_message(client::Connection& conn, client::Opcode opcode,
                  std::string_view payload) override {
    (void)opcode;
    auto i = static_cast<size_t>(conn.user_data);
    if (count_[i] == 0 || payload.size() != payload_.size()) {
      ++unexpected_;
      return;
    }
    uint64_t now = now_ns();
    histogram.record(now - ring_[i * depth_ + head_[i]]);
    head_[i] = (head_[i] + 1) % depth_;
    --count_[i];
    ++c_.received;
    if (measuring()) {
      send_one(conn, now);
    }
  }

  size_t depth_;
  std::string payload_;
  std::vector<uint64_t> ring_;  // send times, depth_ slots per connection
  std::vector<size_t> head_;
  std::vector<size_t> count_;
  uint64_t unexpected_ = 0;
};

}  // namespace

int run_echo(const BenchOptions& o) {
  RunResult r = run_bench(o, [](Shared& s, int i, std::vector<uint32_t> ids) {
    return std::make_unique<EchoWorker>(s, i, std::move(ids));
  });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench echo: %s\n", r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
  report.add_int("size_bytes", static_cast<int64_t>(o.size), "B");
  report.add_int("in_flight", o.in_flight);
  report.add_int("messages_sent", static_cast<int64_t>(r.sent));
  report.add_int("messages_echoed", static_cast<int64_t>(r.received));
  report.add_int("messages_lost",
                 static_cast<int64_t>(r.expected - std::min(r.expected, r.received)));
  report.add("messages_per_s", r.measure_s > 0 ? r.received_in_window / r.measure_s : 0, "msg/s");
  add_latency_figures(r.histogram, report);
  if (r.server_sampled && r.received > 0) {
    report.add("server_cpu_us_per_msg", r.server_cpu_total_s * 1e6 / r.received, "us");
  }
  if (r.received > 0) {
    report.add("generator_cpu_us_per_msg", r.self_cpu_total_s * 1e6 / r.received, "us");
  }
  return finish_report(o, r, report);
}

}  // namespace herald::bench
