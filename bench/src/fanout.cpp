// herald bench fanout | channels: Herald protocol subscribers on /connection/websocket and one
// publisher (publisher.h) at --rate messages/s.
//   fanout:   --subscribers N clients all subscribed to <ns>:fanout
//   channels: --channels C clients, client i subscribed to <ns>:ch:i alone; the publishes go
//             round-robin over the C channels
// Each subscriber connects, sends connect + subscribe in one frame, and counts as connected
// only once the subscribe reply is in. It then checks every message push: the stamp's
// per-channel sequence number must be the next one (a jump is a loss inside the stream, a step
// back a duplicate or reordering), the offset must be the previous one + 1, and the latency is
// receive time minus the stamp's send time.
#include <algorithm>
#include <cstdio>
#include <string>

#include "herald_wire.h"
#include "modes.h"
#include "publisher.h"
#include "runner.h"

namespace herald::bench {
namespace {

constexpr uint32_t kConnectId = 1;
constexpr uint32_t kSubscribeId = 2;

// Integrity figures of the subscribers, summed over workers after they stop.
struct SubscriberFigures {
  uint64_t seq_gaps = 0;       // messages skipped inside a subscriber's stream
  uint64_t duplicates = 0;     // a sequence number at or below one already seen
  uint64_t offset_gaps = 0;    // offsets not exactly previous + 1
  uint64_t wrong_channel = 0;  // a push for a channel the connection is not subscribed to
  uint64_t other_pushes = 0;   // join, leave, unsubscribe, disconnect...
  uint64_t malformed = 0;      // lines that are not valid JSON or miss the stamp
  uint64_t unexpected_replies = 0;
  uint64_t subscribe_refused = 0;

  void add(const SubscriberFigures& o) {
    seq_gaps += o.seq_gaps;
    duplicates += o.duplicates;
    offset_gaps += o.offset_gaps;
    wrong_channel += o.wrong_channel;
    other_pushes += o.other_pushes;
    malformed += o.malformed;
    unexpected_replies += o.unexpected_replies;
    subscribe_refused += o.subscribe_refused;
  }
};

// Thread: its own worker thread.
class SubscriberWorker : public Worker {
 public:
  SubscriberWorker(Shared& shared, int index, std::vector<uint32_t> ids,
                   const std::vector<std::string>& channels,
                   std::vector<std::atomic<uint32_t>>& subscribers)
      : Worker(shared, index, std::move(ids)),
        channels_(channels),
        subscribers_(subscribers),
        subs_(conns_.size()) {
    for (size_t i = 0; i < subs_.size(); ++i) {
      subs_[i].channel = static_cast<uint32_t>(ids_[i] % channels_.size());
    }
  }

  SubscriberFigures figures;

 private:
  enum class SubState : uint8_t { kSubscribing, kSubscribed, kGone };

  struct Sub {
    uint32_t channel = 0;
    SubState state = SubState::kSubscribing;
    uint64_t next_seq = 0;
    uint64_t last_offset = 0;
  };

  void on_open(client::Connection& conn) override {
    // Not open for the runner until subscribed: the connect phase includes the subscription.
    frame_.clear();
    append_connect(frame_, kConnectId);
    frame_.push_back('\n');
    append_subscribe(frame_, kSubscribeId, channels_[subs_[conn.user_data].channel]);
    if (!conn.send_text(frame_)) {
      refuse(conn, "cannot send connect + subscribe");
    }
  }

  void on_close(client::Connection& conn, const client::CloseInfo& info) override {
    Sub& sub = subs_[conn.user_data];
    if (sub.state == SubState::kSubscribed) {
      subscribers_[sub.channel].fetch_sub(1, std::memory_order_relaxed);
    }
    sub.state = SubState::kGone;
    Worker::on_close(conn, info);
  }

  void on_message(client::Connection& conn, client::Opcode opcode,
                  std::string_view payload) override {
    (void)opcode;
    uint64_t now = now_ns();
    for_each_line(payload, [&](std::string_view line) { on_line(conn, line, now); });
  }

  void on_line(client::Connection& conn, std::string_view line, uint64_t now) {
    ServerLine l;
    if (parse_server_line(line, &l) != JsonError::kNone) {
      ++figures.malformed;
      return;
    }
    Sub& sub = subs_[conn.user_data];
    if (l.kind == ServerLine::Kind::kPush) {
      if (l.push == "message") {
        on_publication(sub, l, now);
      } else {
        ++figures.other_pushes;
      }
      return;
    }
    if (l.kind != ServerLine::Kind::kReply || sub.state != SubState::kSubscribing) {
      ++figures.unexpected_replies;
      return;
    }
    if (l.is_error) {
      ++figures.subscribe_refused;
      refuse(conn, std::string(l.id == kConnectId ? "connect" : "subscribe") +
                       " refused: " + std::string(line.substr(0, 200)));
      return;
    }
    if (l.id != kSubscribeId) {
      return;  // the connect result
    }
    SubscribeResult result;
    if (parse_subscribe_result(l.result, &result) != JsonError::kNone) {
      ++figures.malformed;
      refuse(conn, "malformed subscribe result: " + std::string(line.substr(0, 200)));
      return;
    }
    sub.last_offset = result.offset;
    sub.state = SubState::kSubscribed;
    subscribers_[sub.channel].fetch_add(1, std::memory_order_relaxed);
    Worker::on_open(conn);
  }

  void on_publication(Sub& sub, const ServerLine& l, uint64_t now) {
    Stamp stamp;
    if (!read_stamp(l.data.string_body(), &stamp)) {
      ++figures.malformed;
      return;
    }
    if (l.channel != channels_[sub.channel]) {
      ++figures.wrong_channel;
      return;
    }
    if (l.offset != sub.last_offset + 1) {
      ++figures.offset_gaps;
    }
    sub.last_offset = l.offset;
    if (stamp.seq < sub.next_seq) {
      ++figures.duplicates;
      return;
    }
    figures.seq_gaps += stamp.seq - sub.next_seq;
    sub.next_seq = stamp.seq + 1;
    histogram.record(now > stamp.sent_ns ? now - stamp.sent_ns : 0);
    ++c_.received;
  }

  // Ends a connection whose subscription failed; the runner counts it as a failed connect.
  void refuse(client::Connection& conn, const std::string& why) {
    shared_.set_first_error(why);
    conn.close(1000, "bench: subscribe failed");
  }

  const std::vector<std::string>& channels_;
  std::vector<std::atomic<uint32_t>>& subscribers_;
  std::vector<Sub> subs_;  // parallel to conns_
  std::string frame_;
};

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
  PublisherStats pub;
  RunResult r = run_bench(
      o,
      [&](Shared& s, int i, std::vector<uint32_t> ids) {
        return std::make_unique<SubscriberWorker>(s, i, std::move(ids), channels, subscribers);
      },
      [&](Worker& w) {
        // Only SubscriberWorkers are made above; their threads have been joined.
        figures.add(static_cast<SubscriberWorker&>(w).figures);
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
  report.add_int("seq_gaps", static_cast<int64_t>(figures.seq_gaps));
  report.add_int("duplicates", static_cast<int64_t>(figures.duplicates));
  report.add_int("offset_gaps", static_cast<int64_t>(figures.offset_gaps));
  report.add_int("wrong_channel", static_cast<int64_t>(figures.wrong_channel));
  report.add_int("other_pushes", static_cast<int64_t>(figures.other_pushes));
  report.add_int("malformed_lines", static_cast<int64_t>(figures.malformed));
  report.add_int("unexpected_replies", static_cast<int64_t>(figures.unexpected_replies));
  report.add_int("subscribe_refused", static_cast<int64_t>(figures.subscribe_refused));
  report.add("drain_s", r.drain_s, "s");
  add_latency_figures(r.histogram, report);
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  report.add("publish_reply_p50_us", us(pub.reply_latency.quantile(0.50)), "us");
  report.add("publish_reply_p99_us", us(pub.reply_latency.quantile(0.99)), "us");
  report.add("publish_reply_max_us", us(pub.reply_latency.max()), "us");
  if (r.server_sampled && r.received > 0) {
    report.add("server_cpu_us_per_delivery", r.server_cpu_total_s * 1e6 / r.received, "us");
  }
  if (r.received > 0) {
    report.add("generator_cpu_us_per_delivery", r.self_cpu_total_s * 1e6 / r.received, "us");
  }
  return finish_report(o, r, report);
}

}  // namespace herald::bench
