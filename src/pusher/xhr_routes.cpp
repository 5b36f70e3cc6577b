#include "pusher/xhr_routes.h"

#include <functional>
#include <memory>

#include "base/json_string.h"
#include "pusher/endpoint.h"
#include "pusher/frames.h"
#include "pusher/xhr_frames.h"
#include "pusher/xhr_session.h"
#include "transport/http_transports.h"
#include "transport/loop_services.h"

namespace herald::pusher {
namespace {

constexpr std::string_view kJson = "application/json";
// What SockJS servers answer frames with; pusher-js reads responseText whatever the type.
constexpr std::string_view kFrames = "application/javascript; charset=UTF-8";

// CORS for an Origin the app allows (pusher-js's XHRs are cross-origin whenever the page is not
// served by Herald; they send Content-Type: application/json, so the browser asks first).
std::string cors_headers(const App* app, const http::Request& req) {
  std::string_view origin = req.header("Origin");
  if (origin.empty() || app == nullptr || !app->origins.allows(origin, req.header("Host"))) {
    return {};
  }
  std::string h = "Access-Control-Allow-Origin: ";
  h += origin;
  h += "\r\nVary: Origin\r\nAccess-Control-Allow-Credentials: true\r\n";
  return h;
}

void refuse(Endpoint& ep, transport::HttpSession& http, int status, std::string_view message,
            bool keep, std::string_view extra = {}) {
  ep.metrics().xhr_refusals.add();
  std::string body = R"({"error":)";
  append_json_string(body, message);
  body += ",\"status\":" + std::to_string(status) + "}";
  http.respond(status, kJson, body, keep, extra);
}

}  // namespace

int xhr_session_loop(std::string_view path, int loop_count) {
  return static_cast<int>(std::hash<std::string_view>{}(path) %
                          static_cast<size_t>(loop_count));
}

void serve_xhr(Endpoint& ep, transport::HttpSession& http, const http::Request& req,
               std::string_view body) {
  ep.metrics().xhr_requests.add();
  bool keep = req.keep_alive;
  XhrPath p;
  if (!parse_xhr_path(req.path, p)) {
    return refuse(ep, http, 404, "not a pusher-js fallback path", keep);
  }
  const App* app = ep.apps().by_key(p.key);
  std::string cors = cors_headers(app, req);
  if (req.method == http::Method::kOptions) {
    http.respond(204, kJson, {}, keep,
                 cors + "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
                        "Access-Control-Allow-Headers: Content-Type\r\n"
                        "Access-Control-Max-Age: 600\r\n");
    return;
  }
  if (req.method != http::Method::kPost) {
    return refuse(ep, http, 405, "method not allowed", false, "Allow: POST, OPTIONS\r\n");
  }
  Host& host = ep.host();
  int target = xhr_session_loop(p.session_path, host.loop_count());
  std::string path(p.session_path);
  if (p.kind == XhrKind::kSend) {
    if (app == nullptr) {
      return refuse(ep, http, 404, "no such session", keep);
    }
    transport::answer_from(
        http, target, keep, kJson, 0, cors,
        [&host, path = std::move(path), events = std::string(body)](
            transport::LoopServices& there, transport::Reply reply) {
          Endpoint& e = host.endpoint_at(there.loop.index());
          int status = e.xhr().send(path, events);
          if (status != 204) {
            e.metrics().xhr_refusals.add();
          }
          reply(status, status == 204   ? std::string()
                        : status == 404 ? R"({"error":"no such session","status":404})"
                                        : R"({"error":"the body must be a JSON array of strings",)"
                                          R"("status":400})");
        });
    return;
  }
  std::string message;
  if (uint16_t code = ep.refusal(app, p.key, req, message); code != 0) {
    ep.metrics().refused_connections.add();
    http.respond(200, kFrames, refusal_frames(code, message), keep, cors);
    return;
  }
  if (p.kind == XhrKind::kPolling) {
    const ServerOptions& o = host.options();
    uint64_t conn_id = http.conn().id();
    ep.xhr().poll_carried(conn_id, path, target);
    transport::answer_from(
        http, target, keep, kFrames, o.ping_interval_ms + o.head_timeout_ms, cors,
        [&host, app, conn_id, path = std::move(path)](transport::LoopServices& there,
                                                      transport::Reply reply) {
          Endpoint& e = host.endpoint_at(there.loop.index());
          e.xhr().receive(*app, path, conn_id, [reply](std::string frames, bool /*last*/) {
            reply(200, std::move(frames));
          });
        });
    return;
  }
  if (http.has_held_answers()) {
    return refuse(ep, http, 400, "a stream must not follow requests still being answered", false,
                  cors);
  }
  auto stream = std::make_unique<XhrStream>(http.conn(), ep, *app, std::move(path));
  XhrStream* s = stream.get();
  http.hand_over(std::move(stream));
  s->open(cors);
}

XhrStream::XhrStream(transport::Connection& conn, Endpoint& home, const App& app,
                     std::string path)
    : conn_(conn),
      home_(home),
      app_(app),
      path_(std::move(path)),
      target_(xhr_session_loop(path_, home.host().loop_count())) {}

XhrStream::~XhrStream() {
  if (registered_) {
    home_.xhr().remove_stream(conn_.id());
  }
}

void XhrStream::open(std::string_view cors) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/javascript; charset=UTF-8\r\n"
      "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nX-Accel-Buffering: no\r\n"
      "Connection: close\r\n";
  head += cors;
  head += "\r\n";
  conn_.write(head);
  home_.xhr().add_stream(conn_.id(), this);
  registered_ = true;
  request();
}

void XhrStream::request() {
  // No answer within two heartbeats: the session's loop lost it; end the response (pusher-js
  // reconnects).
  const ServerOptions& o = home_.host().options();
  conn_.set_timeout(2 * static_cast<uint64_t>(o.ping_interval_ms) + o.head_timeout_ms);
  uint64_t id = conn_.id();
  Host& host = home_.host();
  int home_index = host.loop().index();
  if (target_ == home_index) {
    Endpoint& home = home_;
    home.xhr().receive(app_, path_, id, [&home, id](std::string frames, bool last) {
      if (XhrStream* s = home.xhr().stream(id)) {
        s->on_answer(std::move(frames), last);
      }
    });
    return;
  }
  host.post_to(target_, [app = &app_, path = path_, id, home_index](Endpoint& there) {
    there.xhr().receive(*app, path, id, [&there, id, home_index](std::string frames, bool last) {
      there.host().post_to(home_index, [id, frames = std::move(frames), last](Endpoint& home) {
        if (XhrStream* s = home.xhr().stream(id)) {
          s->on_answer(frames, last);
        }
      });
    });
  });
}

void XhrStream::on_answer(std::string frames, bool last) {
  if (done_ || conn_.closing()) {
    return;
  }
  conn_.write(std::move(frames));
  if (last) {
    done_ = true;
    conn_.close_after_flush();
    return;
  }
  request();
}

size_t XhrStream::on_data(uint8_t* /*data*/, size_t size) {
  return size;  // the request had its body; a client sends nothing more on a stream
}

void XhrStream::on_timeout() {
  done_ = true;
  conn_.close_after_flush();
}

void XhrStream::on_closed(net::CloseReason /*reason*/) {
  if (registered_) {
    home_.xhr().remove_stream(conn_.id());
    registered_ = false;
  }
  // The session's held receive for this stream is dropped; the session then lives on for
  // session_timeout (pusher-js reopens a stream on the same session after 256 KiB).
  uint64_t id = conn_.id();
  Host& host = home_.host();
  if (target_ == host.loop().index()) {
    home_.xhr().detach(path_, id);
    return;
  }
  host.post_to(target_, [path = path_, id](Endpoint& there) { there.xhr().detach(path, id); });
}

void XhrStream::drain() {
  // The server is stopping: the response ends, and pusher-js connects again elsewhere.
  done_ = true;
  conn_.close_after_flush();
}

}  // namespace herald::pusher
