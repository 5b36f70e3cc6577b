#pragma once
// `herald sub CHANNEL`: subscribes over WebSocket or the raw TCP transport, plain or TLS (the
// Herald protocol through clients/cpp) and prints every publication as one JSON line on stdout, recovering by offset across reconnects so
// that nothing is missed or printed twice (with several --server URLs, on the next server).
// Progress and warnings go to stderr.
// Thread: the main thread only (run_subscriber installs SIGINT/SIGTERM handlers).

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace herald::app {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

struct SubOptions {
  std::string channel;
  bool has_since = false;  // --since given: recover from `since` (in `epoch`, or the current one)
  uint64_t since = 0;
  std::string epoch;   // empty: ask the server (history, limit 0) for the current epoch
  uint64_t count = 0;  // exit 0 after this many publications; 0: never
  // --server, in order (empty: kDefaultServer). With several (the nodes of one cluster on
  // Redis), each reconnect goes to the next, recovering from the position printed up to.
  std::vector<std::string> servers;
  std::string token;  // connection token (JWT); empty: anonymous
  std::string ca_file;                    // TLS: certificates to trust (empty: the system's)
  bool insecure_skip_tls_verify = false;  // TLS: no certificate check (tests only)
};

// Adds `herald sub`; its callback sets exit_code (0 done or interrupted, 1 failed).
void register_sub_command(CLI::App& app, int& exit_code);

// Runs the subscriber until --count is reached (0), a signal (0) or a fatal error (1).
int run_subscriber(const SubOptions& options);

// --server as given to the URL the client connects to. http://HOST:PORT, ws://HOST:PORT[/path]
// and HOST:PORT become ws://, https:// and wss:// become wss://, and the path gets
// /connection/websocket unless it already ends with it; tcp://HOST:PORT and tls://HOST:PORT (the
// server's --tcp-listen port) are kept as they are.
Result<std::string> subscriber_url(std::string_view server);

// The wait before reconnect attempt `attempt` (0 = first): 0.5 s doubling up to 20 s, times
// jitter (expected in [0.5, 1.5)) so that clients cut off together do not return together.
std::chrono::milliseconds reconnect_delay(unsigned attempt, double jitter);

}  // namespace herald::app
