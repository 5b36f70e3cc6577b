#pragma once
// Metrics: counters and gauges of one event loop, summed over loops when /metrics is scraped.
// Each loop writes only its own LoopMetrics (single writer, relaxed atomics: a plain store on
// x86), and the scraper reads them from any thread. Thread: the owning loop writes; any reads.

#include <atomic>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/errors.h"

namespace herald::server {

class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct LoopMetrics {
  Counter connections_accepted;  // TCP connections accepted
  Counter connections_rejected;  // refused over max_connections
  Counter connections_open;      // gauge: TCP connections now open
  Counter websockets_open;       // gauge: upgraded connections now open
  Counter http_requests;         // request heads parsed
  Counter http_errors;           // requests answered 4xx/5xx by the parser or router
  Counter head_timeouts;         // connections closed because a head did not arrive in time
  Counter ws_messages_in;        // complete messages received
  Counter ws_bytes_in;           // payload bytes received (after decompression)
  Counter ws_messages_out;       // messages queued to a connection (each delivery counts)
  Counter ws_protocol_errors;    // connections failed for breaking RFC 6455 (1002/1007/1009)
  Counter ws_slow_disconnects;   // connections dropped for not reading their output
  Counter ws_ping_timeouts;      // connections dropped for not answering pings
  Counter publications;          // topic publications started on this loop
  Counter tls_handshakes;        // TLS handshakes completed
  Counter tls_handshake_errors;  // TLS handshakes failed (bad ClientHello, version, timeout...)
  Counter tls_errors;            // TLS connections dropped for a bad record after the handshake

  // The Herald protocol and the server API.
  Counter protocol_clients;      // gauge: connected protocol sessions
  Counter protocol_commands;     // client commands decoded (good or not)
  Counter channel_publications;  // publications accepted (clients and server API)
  Counter api_requests;          // server API requests (a batch counts once)
  Counter api_errors;            // server API error answers (and error entries of a batch)
  Counter token_rejections;      // connects refused for their token (or for lacking one)
  Counter forced_disconnects;    // connections ended by POST /api/disconnect
  // Error replies to clients, by code (index: position in protocol::kAllErrorCodes).
  Counter protocol_errors[std::size(protocol::kAllErrorCodes)];

  Counter& protocol_error(protocol::ErrorCode code);
};

// Renders the Prometheus text exposition format for the summed loops.
std::string render_prometheus(const std::vector<const LoopMetrics*>& loops);

}  // namespace herald::server
