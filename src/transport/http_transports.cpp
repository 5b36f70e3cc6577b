#include "transport/http_transports.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/json_string.h"
#include "http/url.h"
#include "transport/connection.h"
#include "transport/http_session.h"
#include "transport/loop_services.h"
#include "transport/poll.h"
#include "transport/sse.h"

namespace herald::transport {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kLines = "application/x-ndjson; charset=utf-8";

void respond_error(HttpSession& http, int status, std::string_view message, bool keep,
                   std::string_view cors) {
  std::string body = "{\"error\":\"";
  body += message;
  body += "\",\"status\":" + std::to_string(status) + "}";
  http.respond(status, kJson, body, keep, cors);
}

// A CORS preflight for the HTTP transports (the Origin was allowed by the server already).
void preflight(HttpSession& http, const http::Request& req, std::string_view cors) {
  std::string headers(cors);
  headers +=
      "Access-Control-Allow-Methods: GET, POST, DELETE\r\n"
      "Access-Control-Allow-Headers: Content-Type, Last-Event-ID\r\n"
      "Access-Control-Max-Age: 600\r\n";
  http.respond(204, kJson, {}, req.keep_alive, headers);
}

// The value of cookie `name` in a Cookie header, or empty.
std::string_view cookie(const http::Request& req, std::string_view name) {
  std::string_view header = req.header("Cookie");
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
  }
  return {};
}

// Runs req on `there`, the loop holding its session: reply gets 204 (commands ran: their
// replies travel on the stream or wait for the next poll), the poll's answer, 404 when no such
// session lives there, 410 when it ended.
void run_here(LoopServices& there, const SessionRequest& req, Reply reply) {
  EmulatedSession* s = there.sessions.find(req.session);
  Kind kind = req.poll ? Kind::kPoll : Kind::kSse;
  if (s == nullptr || s->kind() != kind) {
    reply(404, R"({"error":"unknown session","status":404})");
    return;
  }
  switch (req.op) {
    case SessionRequest::Op::kCommands:
      if (req.poll) {
        if (!static_cast<PollSession*>(s)->commands(req.body)) {
          reply(410, R"({"error":"session ended","status":410})");
          return;
        }
      } else {
        there.protocol_endpoint().on_text(*s, req.body);
      }
      reply(204, {});
      return;
    case SessionRequest::Op::kPoll:
      static_cast<PollSession*>(s)->poll(req.cursor, std::move(reply));
      return;
    case SessionRequest::Op::kLeave:
      static_cast<PollSession*>(s)->leave();
      reply(204, {});
      return;
  }
}

// A request naming session req.session: run on the loop that holds it, on this node or, through
// the cluster, on another one; answered on http in request order.
void serve_session(HttpSession& http, SessionRequest req, bool keep, uint32_t hold_ms,
                   std::string_view cors) {
  LoopServices& home = http.conn().services();
  std::string_view ok_type = req.op == SessionRequest::Op::kPoll ? kLines : kJson;
  std::string_view node = session_node(req.session);
  if (!node.empty() && node != home.node_id()) {
    uint64_t conn_id = http.conn().id();
    uint64_t ticket = http.begin_async(hold_ms);
    home.transport_metrics.session_relays.add();
    // The relay gives up a second before the connection's own timeout would close it.
    uint32_t relay_ms =
        std::max<uint32_t>(hold_ms != 0 ? hold_ms : home.options.head_timeout_ms, 2'000) - 1'000;
    home.relay_session(node, std::move(req), relay_ms,
                       [&home, conn_id, ticket, keep, ok_type, cors = std::string(cors)](
                           int status, std::string body) {
                         auto it = home.async_waiting.find(conn_id);
                         if (it != home.async_waiting.end()) {
                           it->second->answer_async(ticket, status, status == 200 ? ok_type : kJson,
                                                    body, keep, cors);
                         }
                       });
    return;
  }
  int loop = session_loop(req.session, home.loop_count());
  if (loop < 0) {
    respond_error(http, 404, "unknown session", keep, cors);
    return;
  }
  answer_from(http, loop, keep, ok_type, hold_ms, cors,
              [req = std::move(req)](LoopServices& there, Reply reply) {
                run_here(there, req, std::move(reply));
              });
}

// POST ...?session=S: the body's commands go to session S.
void post_commands(HttpSession& http, const http::Request& req, std::string_view body,
                   std::string_view session, Kind kind, std::string_view cors) {
  TransportMetrics& metrics = http.conn().services().transport_metrics;
  metrics.session_posts.add();
  if (kind == Kind::kPoll) {
    metrics.poll_posts.add();
  }
  SessionRequest r;
  r.op = SessionRequest::Op::kCommands;
  r.poll = kind == Kind::kPoll;
  r.session = std::string(session);
  r.body = std::string(body);
  serve_session(http, std::move(r), req.keep_alive, 0, cors);
}

}  // namespace

void answer_from(HttpSession& http, int target, bool keep, std::string_view ok_type,
                 uint32_t hold_ms, std::string_view cors,
                 std::function<void(LoopServices&, Reply)> work) {
  LoopServices& home = http.conn().services();
  uint64_t conn_id = http.conn().id();
  int home_index = home.loop.index();
  struct State {
    bool returned = false;
    uint64_t ticket = 0;
    std::optional<std::pair<int, std::string>> early;
  };
  auto state = std::make_shared<State>();
  auto type = [ok = std::string(ok_type)](int status) {
    return status == 200 ? std::string_view(ok) : kJson;
  };
  auto deliver = [&home, conn_id, keep, type, state, cors = std::string(cors)](int status,
                                                                               std::string body) {
    auto it = home.async_waiting.find(conn_id);
    if (it != home.async_waiting.end()) {
      it->second->answer_async(state->ticket, status, type(status), body, keep, cors);
    }
  };
  if (target == home_index) {
    work(home, [state, deliver](int status, std::string body) {
      if (!state->returned) {
        state->early.emplace(status, std::move(body));
      } else {
        deliver(status, std::move(body));
      }
    });
    state->returned = true;
    if (state->early) {
      http.respond(state->early->first, type(state->early->first), state->early->second, keep,
                   cors);
    } else {
      state->ticket = http.begin_async(hold_ms);
    }
    return;
  }
  state->returned = true;
  state->ticket = http.begin_async(hold_ms);
  LoopServices& there = home.loop_at(target);
  there.loop.post([&there, &home, deliver, work = std::move(work)] {
    work(there, [&home, deliver](int status, std::string body) {
      home.loop.post([deliver, status, body = std::move(body)]() mutable {
        deliver(status, std::move(body));
      });
    });
  });
}

void serve_sse(HttpSession& http, const http::Request& req, std::string_view body,
               std::string_view cors) {
  bool keep = req.keep_alive;
  if (req.method == http::Method::kOptions) {
    preflight(http, req, cors);
    return;
  }
  std::optional<std::string> session = http::query_param_decoded(req.query, "session");
  if (req.method == http::Method::kPost) {
    if (!session) {
      respond_error(http, 400, "POST /connection/sse needs ?session=", keep, cors);
      return;
    }
    post_commands(http, req, body, *session, Kind::kSse, cors);
    return;
  }
  if (req.method != http::Method::kGet) {
    http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                 "Allow: GET, POST, OPTIONS\r\n");
    return;
  }
  if (http.has_held_answers()) {
    respond_error(http, 400, "an event stream must not follow requests still being answered",
                  false, cors);
    return;
  }
  LoopServices& services = http.conn().services();
  std::vector<std::string> channels = http::query_values_decoded(req.query, "channel");
  std::string commands;
  std::vector<SseStream::Position> positions;
  if (channels.empty()) {
    // Bidirectional: the client's connect command (with its token) comes in the URL, the one
    // place an EventSource can put it; the rest comes in POSTs naming the session.
    commands = http::query_param_decoded(req.query, "connect")
                   .value_or(R"({"id":1,"method":"connect"})");
  } else {
    if (channels.size() > services.options.max_subscriptions) {
      respond_error(http, 400, "too many channels for one stream", false, cors);
      return;
    }
    for (std::string& c : channels) {
      positions.push_back(SseStream::Position{std::move(c), {}, 0});
    }
    // Where to resume: the browser's own Last-Event-ID on a reconnect, or ?last_event_id= for a
    // first request that resumes. An id that does not fit these channels starts afresh.
    std::string_view last = req.header("Last-Event-ID");
    std::optional<std::string> from_query = http::query_param_decoded(req.query, "last_event_id");
    if (last.empty() && from_query) {
      last = *from_query;
    }
    bool resume = !last.empty() && SseStream::parse_event_id(last, positions);
    std::optional<std::string> token = http::query_param_decoded(req.query, "token");
    std::string_view cookie_token = cookie(req, "herald_token");
    commands = R"({"id":1,"method":"connect")";
    if (token || !cookie_token.empty()) {
      commands += R"(,"params":{"token":)";
      append_json_string(commands, token ? std::string_view(*token) : cookie_token);
      commands += '}';
    }
    commands += '}';
    uint32_t id = 2;
    for (const SseStream::Position& p : positions) {
      commands += "\n{\"id\":" + std::to_string(id++) + R"(,"method":"subscribe","params":{"channel":)";
      append_json_string(commands, p.channel);
      if (resume) {
        commands += R"(,"since":{"offset":)" + std::to_string(p.offset) + R"(,"epoch":)";
        append_json_string(commands, p.epoch);
        commands += '}';
      }
      commands += "}}";
    }
  }
  http.start_sse(new_session_id(services.node_id(), services.loop.index()), std::move(positions), commands, cors);
}

void serve_poll(HttpSession& http, const http::Request& req, std::string_view body,
                std::string_view cors) {
  bool keep = req.keep_alive;
  if (req.method == http::Method::kOptions) {
    preflight(http, req, cors);
    return;
  }
  LoopServices& services = http.conn().services();
  std::optional<std::string> session = http::query_param_decoded(req.query, "session");
  if (req.method == http::Method::kPost) {
    if (session) {
      post_commands(http, req, body, *session, Kind::kPoll, cors);
      return;
    }
    if (body.empty()) {
      respond_error(http, 400, "a new long-poll session starts with its connect command", keep, cors);
      return;
    }
    std::string id = new_session_id(services.node_id(), services.loop.index());
    // Its own client id, not the connection's: one keep-alive connection may create several
    // sessions, and two clients with one id would replace each other in the protocol handler
    // (the first freed while still subscribed).
    auto created = std::make_unique<PollSession>(services, id, services.new_client_id());
    PollSession* poll = created.get();
    services.polls.emplace(id, std::move(created));
    poll->open(body);
    http.respond(200, kLines, poll->answer_now(), keep,
                 std::string(cors) + "Herald-Session: " + id + "\r\n");
    return;
  }
  if (req.method == http::Method::kDelete) {
    // The client leaves: its session ends now rather than at session_timeout.
    if (!session) {
      respond_error(http, 404, "unknown session", keep, cors);
      return;
    }
    SessionRequest r;
    r.op = SessionRequest::Op::kLeave;
    r.poll = true;
    r.session = std::move(*session);
    serve_session(http, std::move(r), keep, 0, cors);
    return;
  }
  if (req.method != http::Method::kGet) {
    http.respond(405, kJson, R"({"error":"method not allowed","status":405})", false,
                 "Allow: GET, POST, DELETE, OPTIONS\r\n");
    return;
  }
  std::optional<std::string> cursor_text = http::query_param_decoded(req.query, "cursor");
  uint64_t cursor = 0;
  if (!session || !cursor_text ||
      std::from_chars(cursor_text->data(), cursor_text->data() + cursor_text->size(), cursor)
              .ptr != cursor_text->data() + cursor_text->size() ||
      cursor_text->empty()) {
    respond_error(http, 400, "a poll needs ?session= and a numeric cursor=", keep, cors);
    return;
  }
  SessionRequest r;
  r.op = SessionRequest::Op::kPoll;
  r.poll = true;
  r.session = std::move(*session);
  r.cursor = cursor;
  uint32_t hold = services.options.poll_timeout_ms + services.options.head_timeout_ms;
  serve_session(http, std::move(r), keep, hold, cors);
}

void run_session_request(LoopServices& home, SessionRequest req,
                         std::function<void(int status, std::string body)> reply) {
  int loop = session_loop(req.session, home.loop_count());
  if (loop < 0) {
    reply(404, R"({"error":"unknown session","status":404})");
    return;
  }
  LoopServices& there = home.loop_at(loop);
  there.loop.post([&there, req = std::move(req), reply = std::move(reply)]() mutable {
    run_here(there, req, std::move(reply));
  });
}

}  // namespace herald::transport
