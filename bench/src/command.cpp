#include "herald/bench/command.h"

#include <CLI/CLI.hpp>
#include <memory>

#include "modes.h"
#include "options.h"

namespace herald::bench {
namespace {

void add_common(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--url", o.url, "ws:// URL of the server (loopback only)")->capture_default_str();
  sub->add_option("--connections,-c", o.connections, "WebSocket connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sub->add_option("--threads", o.threads, "generator threads (one epoll loop each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_option("--connect-timeout", o.connect_timeout_s, "seconds for the whole connect phase")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  sub->add_option("--connect-concurrency", o.connect_concurrency, "handshakes in progress at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  sub->add_option("--server-pid", o.server_pid,
                  "server process to sample (/proc/PID): CPU and RSS figures")
      ->check(CLI::Range(1, 1 << 30));
  sub->add_flag("--deflate", o.deflate, "offer permessage-deflate");
  sub->add_flag("--json", o.json, "print one JSON object with all figures");
  sub->add_flag("--quiet,-q", o.quiet, "no progress line on stderr");
}

void add_traffic(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--duration,-d", o.duration_s, "seconds of measured traffic")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--drain", o.drain_s, "seconds to wait for messages still in flight")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60.0));
  sub->add_option("--size,-s", o.size, "payload bytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 16 << 20));
}

// CLI11 callbacks cannot return a status: a failure leaves through RuntimeError(code).
void run_or_throw(int rc) {
  if (rc != 0) {
    throw CLI::RuntimeError(rc);
  }
}

}  // namespace

void register_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Load generator against a loopback server: echo, broadcast, connect");
  bench->require_subcommand(1);

  auto echo = std::make_shared<BenchOptions>();
  echo->mode = Mode::kEcho;
  echo->url = "ws://127.0.0.1:8080/echo";
  echo->connections = 100;
  echo->size = 32;
  CLI::App* e = bench->add_subcommand(
      "echo", "Each connection keeps --in-flight messages outstanding on /echo: msg/s, latency");
  add_common(e, *echo);
  add_traffic(e, *echo);
  e->add_option("--in-flight", echo->in_flight, "messages outstanding per connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  e->callback([echo] { run_or_throw(run_echo(*echo)); });

  auto bc = std::make_shared<BenchOptions>();
  bc->mode = Mode::kBroadcast;
  bc->url = "ws://127.0.0.1:8080/chat";
  bc->connections = 1000;
  bc->size = 64;
  CLI::App* b = bench->add_subcommand(
      "broadcast",
      "Chat fan-out: --rate msg/s in total from round-robin senders to every other client");
  add_common(b, *bc);
  add_traffic(b, *bc);
  b->add_option("--rate,-r", bc->rate, "messages per second, all senders together")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  b->add_flag("--expect-self", bc->expect_self, "the room also delivers to the sender");
  b->callback([bc] { run_or_throw(run_broadcast(*bc)); });

  auto cn = std::make_shared<BenchOptions>();
  cn->mode = Mode::kConnect;
  cn->url = "ws://127.0.0.1:8080/chat";
  cn->connections = 10000;
  cn->duration_s = 0;
  cn->drain_s = 0;
  CLI::App* c = bench->add_subcommand(
      "connect", "Open --connections idle connections: success count, time, server RSS each");
  add_common(c, *cn);
  c->add_option("--hold", cn->duration_s, "seconds to keep them open afterwards")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  c->callback([cn] { run_or_throw(run_connect(*cn)); });
}

}  // namespace herald::bench
