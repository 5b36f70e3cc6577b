// The commands and polls of an SSE or long-poll session that reach another node than the one
// holding it, relayed through the Cluster (topic "session"): the asking node holds the HTTP
// request open, the holder runs it on the session's loop (transport::run_session_request) and
// answers with the status and body, which the asker writes as its own answer. So any node can
// take any request of a session, and a load balancer needs no sticky sessions.
// Thread: the loops (LoopContext's methods on their own loop; the handler on loop 0).
#include <charconv>

#include "server/cluster.h"
#include "server/cluster_api.h"
#include "server/loop_context.h"
#include "transport/http_transports.h"

namespace herald::server {
namespace {

// Body of a relayed request: op, poll (0/1), session id, cursor, commands.
std::string encode(const transport::SessionRequest& req) {
  std::string out;
  Cluster::put(out, std::to_string(static_cast<int>(req.op)));
  Cluster::put(out, req.poll ? "1" : "0");
  Cluster::put(out, req.session);
  Cluster::put(out, std::to_string(req.cursor));
  Cluster::put(out, req.body);
  return out;
}

bool decode(std::string_view in, transport::SessionRequest& req) {
  std::string_view op, poll, session, cursor, body;
  if (!Cluster::take(in, op) || !Cluster::take(in, poll) || !Cluster::take(in, session) ||
      !Cluster::take(in, cursor) || !Cluster::take(in, body) || op.size() != 1 || op[0] < '0' ||
      op[0] > '2') {
    return false;
  }
  req.op = static_cast<transport::SessionRequest::Op>(op[0] - '0');
  req.poll = poll == "1";
  req.session = std::string(session);
  std::from_chars(cursor.data(), cursor.data() + cursor.size(), req.cursor);
  req.body = std::string(body);
  return true;
}

}  // namespace

std::string_view LoopContext::node_id() const {
  return core.cluster ? core.cluster->node_id() : std::string_view{};
}

void LoopContext::relay_session(std::string_view node, transport::SessionRequest req,
                                uint32_t timeout_ms,
                                std::function<void(int status, std::string body)> reply) {
  // A node missing from a list this node has read is gone; before the first read, ask anyway.
  std::vector<std::string> nodes = core.broker->nodes();
  bool alive = nodes.empty();
  for (const std::string& n : nodes) {
    alive = alive || n == node;
  }
  if (!core.cluster || !alive) {
    // Its node is gone, and the session with it: the client starts a new one.
    reply(404, R"({"error":"unknown session","status":404})");
    return;
  }
  core.cluster->ask_one(
      *this, node, "session", encode(req),
      [reply = std::move(reply)](std::optional<std::string> answer) {
        std::string_view in = answer ? std::string_view(*answer) : std::string_view{};
        std::string_view status, body;
        int code = 0;
        if (!answer || !Cluster::take(in, status) || !Cluster::take(in, body) ||
            std::from_chars(status.data(), status.data() + status.size(), code).ec !=
                std::errc()) {
          reply(503, R"({"error":"the node holding the session did not answer","status":503})");
          return;
        }
        reply(code, std::string(body));
      },
      timeout_ms);
}

void register_cluster_sessions(Cluster& cluster) {
  cluster.handle("session", [](LoopContext& ctx, std::string_view, std::string_view body,
                               Cluster::Answer answer) {
    transport::SessionRequest req;
    if (!decode(body, req)) {
      return;  // the asker times out
    }
    transport::run_session_request(ctx, std::move(req),
                                   [answer = std::move(answer)](int status, std::string text) {
                                     std::string out;
                                     Cluster::put(out, std::to_string(status));
                                     Cluster::put(out, text);
                                     answer(std::move(out));
                                   });
  });
}

}  // namespace herald::server
