#include "herald/bench/command.h"

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>

#include "modes.h"
#include "options.h"

namespace herald::bench {
namespace {

void add_output(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--server-pid", o.server_pid,
                  "server process to sample (/proc/PID): CPU and RSS figures")
      ->check(CLI::Range(1, 1 << 30));
  sub->add_flag("--json", o.json, "print one JSON object with all figures");
  sub->add_flag("--quiet,-q", o.quiet, "no progress line on stderr");
}

// wss:// and tls://: what the clients trust.
void add_tls(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--ca-file", o.ca_file,
                  "wss:// and tls://: PEM certificates to trust (default: the system's store)");
  sub->add_flag("--insecure-skip-tls-verify", o.insecure_skip_tls_verify,
                "wss:// and tls://: accept any certificate for any host (INSECURE: only for a "
                "test server)");
}

void add_common(CLI::App* sub, BenchOptions& o,
                const std::string& connections_flag = "--connections,-c",
                const std::string& connections_help = "WebSocket connections") {
  sub->add_option("--url", o.url, "ws:// or wss:// URL of the server (loopback only)")
      ->capture_default_str();
  sub->add_option(connections_flag, o.connections, connections_help)
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
  sub->add_flag("--deflate", o.deflate, "offer permessage-deflate");
  add_tls(sub, o);
  add_output(sub, o);
}

// Options of the Herald protocol modes: channel namespace, server API connections and key.
void add_protocol(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--namespace", o.ns, "namespace of the channels used (NS:fanout, NS:ch:7...)")
      ->capture_default_str();
  sub->add_option("--api-key", o.api_key, "X-API-Key for POST /api/publish (loopback needs none)");
  sub->add_option("--pipeline", o.pipeline,
                  "requests in flight per API connection (fanout --publish ws: in all)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
}

void add_api_connections(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--api-connections", o.api_connections, "keep-alive server API connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
}

constexpr const char* kProtocolUrl = "ws://127.0.0.1:8080/connection/websocket";

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

// fanout, channels and idle: which transport the subscribers use.
void add_transport(CLI::App* sub, BenchOptions& o) {
  sub->add_option("--transport", o.transport,
                  "the subscribers' transport: websocket (--url's path), tcp (--tcp), sse "
                  "(/connection/sse of --url's host:port), poll (/connection/poll), pusher (the Pusher "
                  "protocol on --url, ws://HOST:PORT/app/KEY?protocol=7)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Transport>{
          {"websocket", Transport::kWebSocket},
          {"ws", Transport::kWebSocket},
          {"tcp", Transport::kTcp},
          {"sse", Transport::kSse},
          {"poll", Transport::kPoll},
          {"pusher", Transport::kPusher}}))
      ->option_text("websocket|tcp|sse|poll|pusher (default websocket)");
  sub->add_option("--tcp", o.tcp_address,
                  "HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT of the raw TCP transport (herald "
                  "serve --tcp-listen), for --transport tcp");
}

// fanout and channels: subscribers + a publisher at --rate.
void add_publishing(CLI::App* sub, BenchOptions& o) {
  add_traffic(sub, o);
  add_protocol(sub, o);
  add_api_connections(sub, o);
  sub->add_option("--rate,-r", o.rate, "messages per second published in total")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  sub->add_option("--publish", o.publish_via,
                  "api: POST /api/publish; ws: publish commands from one more WebSocket client")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, PublishVia>{{"api", PublishVia::kApi}, {"ws", PublishVia::kWs}}))
      ->option_text("api|ws (default api)");
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
      "bench",
      "Load generator against a loopback server: echo, broadcast, connect, and the Herald "
      "protocol: fanout, channels, idle, history, recovery");
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

  auto fo = std::make_shared<BenchOptions>();
  fo->mode = Mode::kFanout;
  fo->url = kProtocolUrl;
  fo->connections = 1000;
  fo->rate = 100;
  fo->size = 64;
  CLI::App* f = bench->add_subcommand(
      "fanout",
      "Herald protocol: --subscribers clients on one channel, --rate msg/s published to it");
  add_common(f, *fo, "--subscribers,--connections,-c", "subscribers of the channel");
  add_publishing(f, *fo);
  add_transport(f, *fo);
  f->callback([fo] { run_or_throw(run_fanout(*fo)); });

  auto ch = std::make_shared<BenchOptions>();
  ch->mode = Mode::kChannels;
  ch->url = kProtocolUrl;
  ch->connections = 1000;
  ch->rate = 1000;
  ch->size = 64;
  CLI::App* h = bench->add_subcommand(
      "channels",
      "Herald protocol: --channels channels with one subscriber each, --rate msg/s round-robin");
  add_common(h, *ch, "--channels", "channels, one subscriber each");
  add_publishing(h, *ch);
  add_transport(h, *ch);
  h->callback([ch] {
    ch->channels = ch->connections;
    run_or_throw(run_fanout(*ch));
  });

  auto id = std::make_shared<BenchOptions>();
  id->mode = Mode::kIdle;
  id->url = kProtocolUrl;
  id->connections = 10000;
  id->duration_s = 2;
  id->drain_s = 0;
  CLI::App* d = bench->add_subcommand(
      "idle",
      "Herald protocol: --connections clients over --transport, connected and subscribed, then "
      "idle: count, time, server RSS each");
  add_common(d, *id, "--connections,-c", "protocol clients");
  add_transport(d, *id);
  d->add_option("--hold", id->duration_s, "seconds to keep them open afterwards")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  d->add_option("--namespace", id->ns, "namespace of the channel subscribed to (NS:idle)")
      ->capture_default_str();
  d->callback([id] { run_or_throw(run_idle(*id)); });

  auto hi = std::make_shared<BenchOptions>();
  hi->mode = Mode::kHistory;
  hi->url = kProtocolUrl;
  hi->channels = 8;
  hi->size = 64;
  hi->duration_s = 120;
  CLI::App* y = bench->add_subcommand(
      "history", "Server API: --count publishes, --pipeline in flight, no subscribers: appends/s");
  y->add_option("--url", hi->url, "ws:// URL of the server; the API is on the same host:port")
      ->capture_default_str();
  y->add_option("--count,-n", hi->count, "publishes in total")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  y->add_option("--channels", hi->channels, "channels published to, round-robin")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  y->add_option("--size,-s", hi->size, "data bytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  y->add_option("--timeout", hi->duration_s, "give up after this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  add_protocol(y, *hi);
  add_api_connections(y, *hi);
  add_output(y, *hi);
  y->callback([hi] { run_or_throw(run_history(*hi)); });

  auto rc = std::make_shared<BenchOptions>();
  rc->mode = Mode::kRecovery;
  rc->url = kProtocolUrl;
  rc->size = 64;
  CLI::App* v = bench->add_subcommand(
      "recovery",
      "Herald protocol: reconnect after --missed publications and recover them: time, p50/p99");
  v->add_option("--url", rc->url, "ws:// URL of the server; the API is on the same host:port")
      ->capture_default_str();
  v->add_option("--missed", rc->missed,
                "publications made while the client is away (the history must keep them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  v->add_option("--repeat", rc->repeat, "rounds")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  v->add_option("--size,-s", rc->size, "data bytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  add_protocol(v, *rc);
  add_output(v, *rc);
  v->callback([rc] { run_or_throw(run_recovery(*rc)); });
}

}  // namespace herald::bench
