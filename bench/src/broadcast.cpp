// herald bench broadcast: N clients in a chat room; --rate messages/s in total are sent by
// clients chosen round-robin, and every other client (also the sender with --expect-self)
// should receive each one. Each payload carries its sequence number, sender and send time
// (steady clock, same machine), so any receiver can compute the latency without state.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "modes.h"
#include "runner.h"

namespace herald::bench {
namespace {

// Payload layout (text, so chat rooms that only relay text accept it):
//   "HB" seq:16 hex  time_ns:16 hex  sender:8 hex  then 'x' padding up to --size.
constexpr size_t kSeqAt = 2;
constexpr size_t kTimeAt = kSeqAt + 16;
constexpr size_t kSenderAt = kTimeAt + 16;
constexpr size_t kHeaderSize = kSenderAt + 8;

constexpr char kHex[] = "0123456789abcdef";

void put_hex(char* out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 0xF];
    v >>= 4;
  }
}

bool get_hex(const char* in, int digits, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    char c = in[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *out = v;
  return true;
}

// Thread: its own worker thread.
class BroadcastWorker : public WsWorker {
 public:
  BroadcastWorker(Shared& shared, int index, std::vector<uint32_t> ids)
      : WsWorker(shared, index, std::move(ids)),
        rate_(options().rate / options().threads),
        payload_(std::max(options().size, kHeaderSize), 'x') {
    payload_[0] = 'H';
    payload_[1] = 'B';
  }

  uint64_t self_received = 0;
  uint64_t malformed = 0;
  uint64_t skipped = 0;

 private:
  void on_measure_start(uint64_t now) override { start_ = now; }

  void on_tick(uint64_t now) override {
    if (rate_ <= 0 || open_.empty()) {
      return;
    }
    auto due = static_cast<uint64_t>(static_cast<double>(now - start_) * rate_ / 1e9);
    // A generator that fell behind (descheduled) does not fire a burst to catch up: it skips
    // and says so, so the offered rate in the report is what was really offered.
    auto max_burst = static_cast<uint64_t>(rate_ / 10) + 1;
    if (due > scheduled_ + max_burst) {
      skipped += due - scheduled_ - max_burst;
      scheduled_ = due - max_burst;
    }
    const BenchOptions& o = options();
    while (scheduled_ < due) {
      uint64_t seq = scheduled_ * static_cast<uint64_t>(o.threads) + static_cast<uint64_t>(index_);
      ++scheduled_;
      client::Connection& conn = *open_[rr_++ % open_.size()];
      uint32_t sender = ids_[static_cast<size_t>(conn.user_data)];
      put_hex(payload_.data() + kSeqAt, seq, 16);
      put_hex(payload_.data() + kTimeAt, now_ns(), 16);
      put_hex(payload_.data() + kSenderAt, sender, 8);
      if (!conn.send_text(payload_)) {
        ++c_.send_refused;
        continue;
      }
      ++c_.sent;
      int64_t receivers =
          shared_.open_connections.load(std::memory_order_relaxed) - 1 + (o.expect_self ? 1 : 0);
      c_.expected += static_cast<uint64_t>(std::max<int64_t>(receivers, 0));
    }
  }

  int timeout_ms(uint64_t now) override {
    if (rate_ <= 0) {
      return 50;
    }
    double next = static_cast<double>(start_) + static_cast<double>(scheduled_ + 1) * 1e9 / rate_;
    double wait_ms = std::ceil((next - static_cast<double>(now)) / 1e6);
    return static_cast<int>(std::clamp(wait_ms, 0.0, 50.0));
  }

  void on_message(client::Connection& conn, client::Opcode opcode,
                  std::string_view payload) override {
    (void)opcode;
    uint64_t sent_at;
    uint64_t sender;
    if (payload.size() < kHeaderSize || payload[0] != 'H' || payload[1] != 'B' ||
        !get_hex(payload.data() + kTimeAt, 16, &sent_at) ||
        !get_hex(payload.data() + kSenderAt, 8, &sender)) {
      ++malformed;
      return;
    }
    uint64_t now = now_ns();
    histogram.record(now > sent_at ? now - sent_at : 0);
    ++c_.received;
    if (sender == ids_[static_cast<size_t>(conn.user_data)]) {
      ++self_received;
    }
  }

  double rate_;
  std::string payload_;
  uint64_t start_ = 0;
  uint64_t scheduled_ = 0;
  size_t rr_ = 0;
};

}  // namespace

int run_broadcast(const BenchOptions& o) {
  if (o.size < kHeaderSize) {
    std::fprintf(stderr,
                 "herald bench broadcast: --size %zu is below the %zu-byte header; using %zu\n",
                 o.size, kHeaderSize, kHeaderSize);
  }
  uint64_t self = 0;
  uint64_t malformed = 0;
  uint64_t skipped = 0;
  RunResult r = run_bench(
      o,
      [](Shared& s, int i, std::vector<uint32_t> ids) {
        return std::make_unique<BroadcastWorker>(s, i, std::move(ids));
      },
      [&](Worker& w) {
        // Only BroadcastWorkers are made above; their threads have been joined.
        auto& bw = static_cast<BroadcastWorker&>(w);
        self += bw.self_received;
        malformed += bw.malformed;
        skipped += bw.skipped;
      });
  if (!r.error.empty()) {
    std::fprintf(stderr, "herald bench broadcast: %s\n", r.error.c_str());
    if (r.opened == 0) {
      return 1;
    }
  }
  Report report;
  add_common_figures(o, r, report);
  double secs = r.measure_s > 0 ? r.measure_s : 1;
  report.add_int("size_bytes", static_cast<int64_t>(std::max(o.size, kHeaderSize)), "B");
  report.add("rate_requested", o.rate, "msg/s");
  report.add("offered_msgs_per_s", static_cast<double>(r.sent) / secs, "msg/s");
  report.add_int("messages_sent", static_cast<int64_t>(r.sent));
  report.add_int("sends_skipped", static_cast<int64_t>(skipped + r.send_refused));
  report.add_int("deliveries_expected", static_cast<int64_t>(r.expected));
  report.add_int("deliveries_received", static_cast<int64_t>(r.received));
  report.add("offered_deliveries_per_s", static_cast<double>(r.expected) / secs, "msg/s");
  report.add("delivered_per_s", static_cast<double>(r.received_in_window) / secs, "msg/s");
  uint64_t lost = r.expected - std::min(r.expected, r.received);
  report.add_int("deliveries_lost", static_cast<int64_t>(lost));
  report.add(
      "lost_pct",
      r.expected > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(r.expected) : 0.0,
      "%");
  report.add("drain_s", r.drain_s, "s");
  report.add_int("self_deliveries", static_cast<int64_t>(self));
  report.add_int("malformed_messages", static_cast<int64_t>(malformed));
  add_latency_figures(r.histogram, report);
  if (r.server_sampled && r.received > 0) {
    report.add("server_cpu_us_per_delivery", r.server_cpu_total_s * 1e6 / r.received, "us");
  }
  if (r.received > 0) {
    report.add("generator_cpu_us_per_delivery", r.self_cpu_total_s * 1e6 / r.received, "us");
  }
  return finish_report(o, r, report);
}

}  // namespace herald::bench
