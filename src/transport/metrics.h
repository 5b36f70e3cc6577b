#pragma once
// TransportMetrics: the counters of one loop's connections and transports, summed over loops
// when /metrics is scraped (server/metrics.cpp renders them). Each loop writes only its own
// (single writer, relaxed atomics: a plain store on x86), and the scraper reads them from any
// thread. Thread: the owning loop writes; any reads.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counter.h"
#include "transport/end_reason.h"

namespace herald::transport {

using herald::Counter;

// The transports of client connections, as Kind in transport.h (same order: the index).
inline constexpr size_t kKinds = 4;

struct TransportMetrics {
  Counter connections_accepted;  // TCP connections accepted (every listener)
  Counter connections_rejected;  // refused over max_connections
  Counter connections_open;      // gauge: TCP connections now open
  Counter websockets_open;       // gauge: upgraded connections now open
  Counter tcp_open;              // gauge: raw TCP protocol connections now open
  Counter http_requests;         // request heads parsed
  Counter http_errors;           // requests answered 4xx/5xx by the parser or router
  Counter head_timeouts;         // connections closed because a head did not arrive in time
  Counter ws_messages_in;        // complete messages received
  Counter ws_bytes_in;           // payload bytes received (after decompression)
  Counter ws_messages_out;       // messages queued to a connection (each delivery counts)
  Counter ws_protocol_errors;    // connections failed for breaking RFC 6455 (1002/1007/1009)
  Counter slow_disconnects;      // connections dropped for not reading their output
  Counter ws_ping_timeouts;      // connections dropped for not answering pings
  Counter tcp_lines_in;          // raw TCP lines received
  Counter tcp_lines_out;         // raw TCP sends queued (a batch of pushes counts once)
  Counter tcp_line_errors;       // raw TCP connections closed for a bad line (size, UTF-8)
  Counter tcp_ping_timeouts;     // raw TCP connections dropped for staying silent
  Counter publications;          // topic publications started on this loop
  Counter sse_open;              // gauge: SSE streams now open
  Counter sse_events_out;        // SSE sends queued (a batch of pushes counts once)
  Counter poll_sessions;         // gauge: long-poll sessions now kept
  Counter poll_requests;         // long-poll GETs answered or held
  Counter poll_expired;          // long-poll sessions collected because nobody polled
  Counter session_posts;         // commands POSTed to an SSE or long-poll session
  Counter session_relays;        // session requests relayed to the node holding the session
  Counter tls_handshakes;        // TLS handshakes completed
  Counter tls_handshake_errors;  // TLS handshakes failed (bad ClientHello, version, timeout...)
  Counter tls_errors;            // TLS connections dropped for a bad record after the handshake
  // Limits hit in the transports (herald_limit_refusals_total{limit=...}).
  Counter message_size_refusals;  // a WebSocket message or a TCP line over max_message_size
  Counter head_limit_refusals;    // a request head or body over its limit (413, 414, 431)
  Counter poll_posts;            // the part of session_posts that went to long-poll sessions
  Counter poll_entries_out;      // replies and push batches queued to long-poll sessions
  // Every TCP connection's end, by net::CloseReason (index: its value).
  Counter connections_closed[8];
  // Client connections (index: Kind) opened, and closed by why (index: EndReason).
  Counter client_opened[kKinds];
  Counter client_closed[kKinds][kEndReasons];
};

}  // namespace herald::transport
