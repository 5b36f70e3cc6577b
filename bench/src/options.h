#pragma once
// Options of `herald bench` shared by every mode; each has a bound so every loop of the
// generator is bounded in count and in time.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace herald::bench {

enum class Mode : uint8_t {
  kEcho,
  kBroadcast,
  kConnect,
  kFanout,
  kChannels,
  kIdle,
  kHistory,
  kRecovery
};

// Which of the server's transports the subscribers of fanout, channels and idle use (link.h).
enum class Transport : uint8_t { kWebSocket, kTcp, kSse, kPoll, kPusher };

// How the Herald protocol modes publish: POST /api/publish, or a WebSocket client's publish.
enum class PublishVia : uint8_t { kApi, kWs };

struct BenchOptions {
  Mode mode = Mode::kEcho;
  std::string url = "ws://127.0.0.1:8080/echo";
  int connections = 100;          // 1..100000
  int threads = 1;                // generator event loops, 1..64
  double duration_s = 10;         // measured phase (connect: --hold), 0..3600
  double drain_s = 2;             // after the measured phase, wait this long for stragglers
  double connect_timeout_s = 30;  // the whole connect phase
  int connect_concurrency = 256;  // connects in progress at once (total)
  size_t size = 32;               // payload bytes
  int in_flight = 1;              // echo: messages outstanding per connection, 1..1024
  double rate = 1000;             // broadcast: messages/s in total
  bool expect_self = false;       // broadcast: the room also delivers to the sender
  bool deflate = false;           // offer permessage-deflate
  pid_t server_pid = 0;           // 0: no server figures
  // The Herald protocol modes (fanout, channels, history, recovery), on /connection/websocket
  // and the server API of the same host:port:
  PublishVia publish_via = PublishVia::kApi;
  Transport transport = Transport::kWebSocket;  // fanout, channels, idle: the subscribers'
  std::string tcp_address;  // [tcp://|tls://]HOST:PORT of the raw TCP transport (--transport tcp)
  std::string ca_file;      // wss:// and tls://: the certificates to trust (empty: the system's)
  bool insecure_skip_tls_verify = false;  // wss:// and tls://: no certificate check at all
  std::string ns = "bench";  // namespace of every channel used: bench:fanout, bench:ch:7...
  int channels = 1;          // channels: one subscriber each; history: channels written to
  int api_connections = 1;   // keep-alive server API connections, 1..64
  int pipeline = 256;        // requests in flight per API connection (or on the ws publisher)
  uint64_t count = 10000;    // history: publishes in total
  int missed = 1000;         // recovery: publications missed while away
  int repeat = 20;           // recovery: rounds
  std::string api_key;       // X-API-Key; none is needed on loopback
  bool json = false;
  bool quiet = false;  // no progress line
};

}  // namespace herald::bench
