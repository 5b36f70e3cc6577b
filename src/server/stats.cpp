#include "server/stats.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_set>

#include "server/every_loop.h"
#include "server/loop_context.h"
#include "server/version.h"
#include "transport/connection.h"
#include "transport/http_session.h"

namespace herald::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";

LoopStats sample(LoopContext& loop, Clock::time_point posted) {
  const transport::TransportMetrics& t = loop.transport_metrics;
  const LoopMetrics& m = loop.metrics;
  LoopStats s;
  s.lag_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - posted).count());
  s.connections = t.connections_open.get();
  s.websocket = t.websockets_open.get();
  s.sse = t.sse_open.get();
  s.poll = t.poll_sessions.get();
  s.tcp = t.tcp_open.get();
  s.clients = m.protocol_clients.get();
  s.messages_in = t.ws_messages_in.get() + t.tcp_lines_in.get() + t.session_posts.get();
  s.messages_out = t.ws_messages_out.get() + t.tcp_lines_out.get() + t.sse_events_out.get();
  s.publications = m.channel_publications.get();
  s.topic_publications = t.publications.get();
  s.http_requests = t.http_requests.get();
  s.api_requests = m.api_requests.get();
  if (loop.hub) {
    loop.hub->for_each_channel([&s](const std::string& name, size_t members) {
      if (members > 0) {
        s.channel_hashes.push_back(std::hash<std::string>{}(name));
        s.subscriptions += members;
      }
    });
  }
  s.channels = s.channel_hashes.size();
  return s;
}

void append_field(std::string& out, std::string_view name, uint64_t value) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
  out += ',';
}

void append_loop(std::string& out, const LoopStats& s) {
  out += '{';
  append_field(out, "connections", s.connections);
  append_field(out, "websocket", s.websocket);
  append_field(out, "sse", s.sse);
  append_field(out, "poll", s.poll);
  append_field(out, "tcp", s.tcp);
  append_field(out, "clients", s.clients);
  append_field(out, "channels", s.channels);
  append_field(out, "messages_in", s.messages_in);
  append_field(out, "messages_out", s.messages_out);
  append_field(out, "publications", s.publications);
  append_field(out, "topic_publications", s.topic_publications);
  append_field(out, "http_requests", s.http_requests);
  append_field(out, "api_requests", s.api_requests);
  append_field(out, "lag_us", s.lag_us);
  append_field(out, "stalled", s.answered ? 0 : 1);
  out.back() = '}';
}

}  // namespace

std::string render_stats(const StatsSnapshot& snapshot) {
  LoopStats total;
  std::unordered_set<uint64_t> channels;
  for (const LoopStats& s : snapshot.loops) {
    total.connections += s.connections;
    total.websocket += s.websocket;
    total.sse += s.sse;
    total.poll += s.poll;
    total.tcp += s.tcp;
    total.clients += s.clients;
    total.messages_in += s.messages_in;
    total.messages_out += s.messages_out;
    total.publications += s.publications;
    total.topic_publications += s.topic_publications;
    total.http_requests += s.http_requests;
    total.api_requests += s.api_requests;
    total.lag_us = std::max(total.lag_us, s.lag_us);
    total.answered = total.answered && s.answered;
    channels.insert(s.channel_hashes.begin(), s.channel_hashes.end());
  }
  total.channels = channels.size();
  std::string out = "{\"version\":\"";
  out += snapshot.version;  // ours: digits and dots, nothing to escape
  out += "\",";
  append_field(out, "uptime_ms", snapshot.uptime_ms);
  append_field(out, "time", snapshot.time_ms);
  append_field(out, "heap_bytes", snapshot.heap_bytes);
  out += "\"total\":";
  append_loop(out, total);
  out += ",\"loops\":[";
  for (size_t i = 0; i < snapshot.loops.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    append_loop(out, snapshot.loops[i]);
  }
  out += "]}";
  return out;
}

void gather_loop_stats(LoopContext& ctx, std::function<void(std::vector<LoopStats>)> done) {
  constexpr uint32_t kTimeoutMs = 1'000;
  Clock::time_point posted = Clock::now();
  on_every_loop_within<LoopStats>(
      ctx, kTimeoutMs, [posted](LoopContext& loop) { return sample(loop, posted); },
      [posted, done = std::move(done)](std::vector<std::optional<LoopStats>> got) {
        std::vector<LoopStats> out(got.size());
        for (size_t i = 0; i < got.size(); ++i) {
          if (got[i]) {
            out[i] = std::move(*got[i]);
          } else {
            out[i].answered = false;
            out[i].lag_us = static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - posted)
                    .count());
          }
        }
        done(std::move(out));
      });
}

void serve_stats(transport::HttpSession& http, LoopContext& ctx, const http::Request& req) {
  bool keep = req.keep_alive;
  if (req.method != http::Method::kGet) {
    http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                 "Allow: GET\r\n");
    return;
  }
  uint64_t ticket = http.begin_async();
  uint64_t id = http.conn().id();
  gather_loop_stats(
      ctx, [&ctx, id, ticket, keep](std::vector<LoopStats> loops) {
        auto it = ctx.async_waiting.find(id);
        if (it == ctx.async_waiting.end()) {
          return;  // the page went away
        }
        StatsSnapshot snap;
        snap.version = kServerVersion;
        snap.uptime_ms =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      Clock::now() - ctx.core.started_at)
                                      .count());
        snap.time_ms =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
        // mallinfo2() walks the malloc arenas: fine once a second per open dashboard.
        struct mallinfo2 heap = mallinfo2();
        snap.heap_bytes = heap.uordblks + heap.hblkhd;
        snap.loops = std::move(loops);
        it->second->answer_async(ticket, 200, kJson, render_stats(snap), keep,
                                 "Cache-Control: no-store\r\n");
      });
}

}  // namespace herald::server
