#pragma once
// GET /stats.json: what the dashboard (/dashboard) draws, as one small JSON object: the counters
// and gauges of /metrics that matter to a person watching the server, for every loop and summed,
// plus each loop's lag (how long a task posted to the loop waited before it ran: the loop's
// queueing delay, the first figure to grow when a loop is overloaded).
//
// Who may read it: whoever may read /metrics (the same figures, no channel names, user ids or
// messages), so the dashboard works from the server's own host without a key, and exposing it is
// the listen address's decision, as for /metrics.
//
// Counters are totals since start; the page turns them into rates from two samples and
// `uptime_ms`. Thread: the loop that received the request (each loop is read on its own thread).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace herald::transport {
class HttpSession;
}

namespace herald::server {

class LoopContext;

// One loop's figures, read on that loop's thread.
struct LoopStats {
  uint64_t connections = 0;   // TCP connections open (every kind, plain HTTP included)
  uint64_t websocket = 0;     // WebSocket connections (every route)
  uint64_t sse = 0;           // SSE streams
  uint64_t poll = 0;          // long-poll sessions (not connections: they outlive their polls)
  uint64_t tcp = 0;           // raw TCP protocol connections
  uint64_t clients = 0;       // connected Herald protocol clients (every transport)
  uint64_t channels = 0;      // Herald channels with subscribers on this loop
  uint64_t subscriptions = 0;  // members of those channels (a client in 3 channels counts 3)
  uint64_t messages_in = 0;   // WebSocket messages, TCP lines and session POSTs received
  uint64_t messages_out = 0;  // WebSocket messages, TCP sends and SSE events queued
  uint64_t publications = 0;  // publications accepted into channels (clients and server API)
  uint64_t topic_publications = 0;  // publications of the application topics (/chat)
  uint64_t http_requests = 0;
  uint64_t api_requests = 0;
  uint64_t lag_us = 0;                   // how long this sample's task waited in the loop's queue
  bool answered = true;  // false: no answer within the gather's timeout (a stalled loop: the
                         // figures above are zero, lag_us is how long it was waited for)
  std::vector<uint64_t> channel_hashes;  // for the total: a channel may be on several loops
};

struct StatsSnapshot {
  std::string_view version;
  uint64_t uptime_ms = 0;
  uint64_t time_ms = 0;  // Unix time
  uint64_t heap_bytes = 0;
  std::vector<LoopStats> loops;
};

// {"version","uptime_ms","time","heap_bytes","total":{...},"loops":[{...}]}: the total sums the
// loops, except `channels` (distinct over loops), `lag_us` (the largest) and `stalled` (1 when a
// loop did not answer in time).
std::string render_stats(const StatsSnapshot& snapshot);

// Answers GET /stats.json once every loop has given its figures.
void serve_stats(transport::HttpSession& http, LoopContext& ctx, const http::Request& req);

// Asks every loop for its LoopStats on its own thread, then calls done on ctx's loop (also what
// /metrics reads for the loop lag, channels and subscriptions); after at most one second, so a
// stalled loop does not hold /metrics and /stats.json (its entry is answered = false).
void gather_loop_stats(LoopContext& ctx, std::function<void(std::vector<LoopStats>)> done);

}  // namespace herald::server
