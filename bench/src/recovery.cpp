// herald bench recovery: how long a client that was away takes to catch up. One client
// subscribes to <ns>:recovery, notes its position and disconnects; --missed publications are
// then made through POST /api/publish (all answered before going on); the client reconnects
// and subscribes with since {offset, epoch}. Two times per round:
//   from_connect: from opening the TCP connection (WebSocket upgrade included)
//   from_subscribe: from writing the connect + subscribe frame
// both up to the subscribe reply having been read and every publication in it parsed. Each
// round also checks the reply: recovered, exactly --missed publications, offsets consecutive
// from the noted position, our stamps in publication order. --repeat rounds, p50/p99/max.
#include <cstdio>
#include <optional>
#include <string>

#include "api_client.h"
#include "herald/client/blocking_client.h"
#include "herald_wire.h"
#include "histogram.h"
#include "modes.h"
#include "proc_stats.h"
#include "report.h"
#include "runner.h"

namespace herald::bench {
namespace {

using Millis = client::BlockingClient::Millis;

constexpr uint32_t kConnectId = 1;
constexpr uint32_t kSubscribeId = 2;
constexpr Millis kStepTimeout{10000};

// Where a subscriber stands in the channel: the last offset it has, in an epoch.
struct Position {
  uint64_t offset = 0;
  std::string epoch;
};

// Counts answers to the publishes of one round. Thread: the main thread only.
class PublishWaiter : public ApiHandler {
 public:
  void on_api_response(uint64_t tag, int status, std::string_view body) override {
    (void)tag;
    if (status == 200) {
      ++accepted;
    } else if (error.empty()) {
      error = "publish: HTTP " + std::to_string(status) + " " + std::string(body.substr(0, 300));
    }
    ++answered;
  }
  void on_api_failure(uint64_t tag, std::string_view what) override {
    (void)tag;
    if (error.empty()) {
      error = "publish: " + std::string(what);
    }
    ++answered;
  }
  uint64_t accepted = 0, answered = 0;
  std::string error;
};

// The result of one subscribe, with the times it was measured at.
struct Subscribed {
  Position position;
  bool recovered = false;
  uint64_t publications = 0;
  std::string failure;  // empty when the reply checked out
  uint64_t done_ns = 0;
};

client::ConnectionOptions ws_options() {
  client::ConnectionOptions c;
  c.validate_utf8 = false;  // as in every bench mode: the JSON reader checks what it needs
  return c;
}

// Sends connect + subscribe (since, when given) on client and reads up to the subscribe reply.
// With expect_missed > 0, checks the publications against [first_offset, first_seq...].
Subscribed subscribe(client::BlockingClient& ws, const std::string& channel,
                     const std::optional<Position>& since, uint64_t expect_missed,
                     uint64_t first_seq) {
  Subscribed s;
  std::string frame;
  append_connect(frame, kConnectId);
  frame.push_back('\n');
  if (since) {
    append_subscribe_since(frame, kSubscribeId, channel, since->offset, since->epoch);
  } else {
    append_subscribe(frame, kSubscribeId, channel);
  }
  if (auto r = ws.send_text(frame, kStepTimeout); !r) {
    s.failure = "send: " + r.error();
    return s;
  }
  bool done = false;
  while (!done) {
    auto m = ws.receive(kStepTimeout);
    if (!m) {
      s.failure = "receive: " + m.error();
      return s;
    }
    if (!m->has_value()) {
      s.failure = "no subscribe reply within 10 s";
      return s;
    }
    for_each_line((*m)->payload, [&](std::string_view line) {
      if (done || !s.failure.empty()) {
        return;
      }
      ServerLine l;
      if (parse_server_line(line, &l) != JsonError::kNone) {
        s.failure = "malformed line: " + std::string(line.substr(0, 200));
        return;
      }
      if (l.kind != ServerLine::Kind::kReply) {
        return;  // pushes (join/leave of others) are not part of the measurement
      }
      if (l.is_error) {
        s.failure = "refused: " + std::string(line.substr(0, 300));
        return;
      }
      if (l.id != kSubscribeId) {
        return;
      }
      done = true;
      SubscribeResult result;
      if (parse_subscribe_result(l.result, &result) != JsonError::kNone) {
        s.failure = "malformed subscribe result: " + std::string(line.substr(0, 300));
        return;
      }
      s.position = Position{result.offset, std::string(result.epoch)};
      s.recovered = result.recovered;
      uint64_t want_offset = since ? since->offset + 1 : 0;
      uint64_t want_seq = first_seq;
      for_each_element(result.publications, [&](const JsonValue& v) {
        PublicationView p;
        Stamp stamp;
        if (parse_publication(v, &p) != JsonError::kNone ||
            !read_stamp(p.data.string_body(), &stamp)) {
          s.failure = "malformed publication: " + std::string(v.raw.substr(0, 200));
          return false;
        }
        if (p.offset != want_offset || stamp.seq != want_seq) {
          s.failure = "publication " + std::to_string(s.publications) + " has offset " +
                      std::to_string(p.offset) + " and seq " + std::to_string(stamp.seq) +
                      ", expected " + std::to_string(want_offset) + " and " +
                      std::to_string(want_seq);
          return false;
        }
        ++want_offset;
        ++want_seq;
        ++s.publications;
        return true;
      });
    });
    if (!s.failure.empty()) {
      return s;
    }
  }
  s.done_ns = now_ns();
  if (since && s.failure.empty()) {
    if (!s.recovered) {
      s.failure = "recovered: false (offset " + std::to_string(since->offset) + ", epoch " +
                  since->epoch + " -> " + std::to_string(s.position.offset) + ", " +
                  s.position.epoch + ")";
    } else if (s.publications != expect_missed) {
      s.failure = std::to_string(s.publications) + " publications recovered, expected " +
                  std::to_string(expect_missed);
    }
  }
  return s;
}

}  // namespace

int run_recovery(const BenchOptions& o) {
  auto target = resolve_target(o.url);
  if (!target) {
    std::fprintf(stderr, "herald bench recovery: %s\n", target.error().c_str());
    return 1;
  }
  if (target->url.tls()) {
    std::fprintf(stderr, "herald bench recovery: --url %s: the server API client speaks plain HTTP, "
                 "not TLS\n", o.url.c_str());
    return 2;
  }
  ApiClient api;
  if (auto r = api.open(target->endpoint, 1, target->url.host_header(), o.api_key); !r) {
    std::fprintf(stderr, "herald bench recovery: %s\n", r.error().c_str());
    return 1;
  }
  const std::string channel = o.ns + ":recovery";
  const auto missed = static_cast<uint64_t>(o.missed);

  // The first visit: just a position.
  Position position;
  {
    auto ws = client::BlockingClient::connect(o.url, kStepTimeout, ws_options());
    if (!ws) {
      std::fprintf(stderr, "herald bench recovery: %s\n", ws.error().c_str());
      return 1;
    }
    Subscribed s = subscribe(**ws, channel, std::nullopt, 0, 0);
    if (!s.failure.empty()) {
      std::fprintf(stderr, "herald bench recovery: first subscribe: %s\n", s.failure.c_str());
      return 1;
    }
    position = s.position;
    (*ws)->close();
  }

  LatencyHistogram from_connect;
  LatencyHistogram from_subscribe;
  LatencyHistogram publish_phase;
  uint64_t rounds_ok = 0;
  int rounds_measured = 0;  // reconnects made (server CPU is summed over them)
  std::string first_failure;
  double server_cpu_s = 0;
  std::string data = make_data_body(o.size);
  std::string body;
  uint64_t seq = 0;
  ProcSample self0 = sample_self();
  for (int round = 0; round < o.repeat; ++round) {
    // Away: publish --missed messages, pipelined, and wait for every answer.
    uint64_t first_seq = seq;
    PublishWaiter waiter;
    uint64_t sent = 0;
    uint64_t p0 = now_ns();
    uint64_t deadline = p0 + 60'000'000'000ULL;
    while (waiter.answered < missed && api.any_usable() && now_ns() < deadline) {
      while (sent < missed && api.in_flight(0) < static_cast<size_t>(o.pipeline)) {
        write_stamp(data.data(), Stamp{seq++, now_ns()});
        body.clear();
        append_api_publish(body, channel, data);
        api.post(0, "/api/publish", body, 0);
        ++sent;
      }
      api.poll(50, waiter);
    }
    publish_phase.record(now_ns() - p0);
    if (waiter.accepted != missed) {
      first_failure = waiter.error.empty() ? "publishes not answered within 60 s" : waiter.error;
      break;
    }

    // Back: reconnect and recover.
    std::optional<ProcSample> cpu0;
    if (o.server_pid > 0) {
      cpu0 = sample_process(o.server_pid);
    }
    ++rounds_measured;
    uint64_t t_connect = now_ns();
    auto ws = client::BlockingClient::connect(o.url, kStepTimeout, ws_options());
    if (!ws) {
      first_failure = "reconnect: " + ws.error();
      break;
    }
    uint64_t t_subscribe = now_ns();
    Subscribed s = subscribe(**ws, channel, position, missed, first_seq);
    if (cpu0) {
      if (auto cpu1 = sample_process(o.server_pid)) {
        server_cpu_s += cpu1->cpu_seconds - cpu0->cpu_seconds;
      }
    }
    (*ws)->close();
    if (!s.failure.empty()) {
      if (first_failure.empty()) {
        first_failure = "round " + std::to_string(round) + ": " + s.failure;
      }
      if (s.position.epoch.empty()) {
        break;  // no usable position to go on from
      }
    } else {
      ++rounds_ok;
      from_connect.record(s.done_ns - t_connect);
      from_subscribe.record(s.done_ns - t_subscribe);
    }
    position = s.position;
    if (!o.quiet) {
      std::fprintf(stderr, "\r[bench recovery] round %d/%d    ", round + 1, o.repeat);
    }
  }
  if (!o.quiet) {
    std::fputs("\n", stderr);
  }
  ProcSample self1 = sample_self();

  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  Report report;
  report.add_text("mode", "recovery");
  report.add_text("url", o.url);
  report.add_int("missed", o.missed);
  report.add_int("size_bytes", static_cast<int64_t>(data.size()), "B");
  report.add_int("rounds", o.repeat);
  report.add_int("rounds_ok", static_cast<int64_t>(rounds_ok));
  if (!first_failure.empty()) {
    report.add_text("first_failure", first_failure);
  }
  report.add("from_connect_p50_ms", ms(from_connect.quantile(0.50)), "ms");
  report.add("from_connect_p99_ms", ms(from_connect.quantile(0.99)), "ms");
  report.add("from_connect_max_ms", ms(from_connect.max()), "ms");
  report.add("from_subscribe_p50_ms", ms(from_subscribe.quantile(0.50)), "ms");
  report.add("from_subscribe_p99_ms", ms(from_subscribe.quantile(0.99)), "ms");
  report.add("from_subscribe_max_ms", ms(from_subscribe.max()), "ms");
  report.add("publish_missed_p50_ms", ms(publish_phase.quantile(0.50)), "ms");
  report.add("generator_cpu_s", self1.cpu_seconds - self0.cpu_seconds, "s");
  if (o.server_pid > 0 && rounds_measured > 0) {
    report.add_int("server_pid", o.server_pid);
    // /proc counts CPU in clock ticks (10 ms) charged to whoever runs at the tick, so a
    // recovery of ~2 ms is seen only statistically: the total says how many ticks it rests on.
    report.add("server_cpu_total_ms", server_cpu_s * 1e3, "ms");
    report.add("server_cpu_ms_per_recovery", server_cpu_s * 1e3 / rounds_measured, "ms");
  }
  if (o.json) {
    std::printf("%s\n", report.to_json().c_str());
  } else {
    std::fputs(report.to_text().c_str(), stdout);
  }
  std::fflush(stdout);
  return rounds_ok == static_cast<uint64_t>(o.repeat) ? 0 : 1;
}

}  // namespace herald::bench
