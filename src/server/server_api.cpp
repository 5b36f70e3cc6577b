#include "server/server_api.h"

#include <openssl/crypto.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <variant>
#include <vector>

#include "protocol/messages.h"
#include "server/api_commands.h"
#include "server/loop_context.h"
#include "transport/connection.h"
#include "transport/http_session.h"

namespace herald::server {
namespace {

using transport::HttpSession;

constexpr std::string_view kJson = "application/json";

void respond_error(HttpSession& conn, LoopContext& ctx, bool keep, protocol::ErrorCode code,
                   std::string_view message = {}) {
  ctx.metrics.api_errors.add();
  std::string body;
  protocol::append_api_error(body, code, message);
  conn.respond(protocol::http_status(code), kJson, body, keep);
}

bool authorized(HttpSession& conn, LoopContext& ctx, const http::Request& req, bool keep) {
  const ServerOptions& opt = ctx.core.options;
  if (opt.api_key.empty()) {
    if (conn.conn().peer_is_loopback()) {
      return true;
    }
    ctx.metrics.api_key_refusals[static_cast<size_t>(ApiKeyRefusal::kNotLoopback)].add();
    respond_error(conn, ctx, keep, protocol::ErrorCode::kPermissionDenied,
                  "no API key is configured: the server API answers loopback peers only");
    return false;
  }
  std::string_view given = req.header("X-API-Key");
  // Constant time, so the key cannot be guessed byte by byte from response times.
  if (given.size() != opt.api_key.size() ||
      CRYPTO_memcmp(given.data(), opt.api_key.data(), given.size()) != 0) {
    ApiKeyRefusal why = given.empty() ? ApiKeyRefusal::kMissing : ApiKeyRefusal::kWrong;
    ctx.metrics.api_key_refusals[static_cast<size_t>(why)].add();
    respond_error(conn, ctx, keep, protocol::ErrorCode::kUnauthorized, "missing or wrong X-API-Key");
    return false;
  }
  return true;
}

// How a successful reply becomes the response body.
enum class Body {
  kResult,  // {"result": <text>}
  kWhole,   // <text> is the body (a batch's {"replies": [...]})
};

// The HTTP status and body of a reply (errors counted for /metrics).
std::pair<int, std::string> render(LoopContext& ctx, Body body, ApiReply reply) {
  std::string out;
  if (reply.error) {
    ctx.metrics.api_errors.add();
    protocol::append_api_error(out, *reply.error, reply.text);
    return {protocol::http_status(*reply.error), std::move(out)};
  }
  if (body == Body::kWhole) {
    return {200, std::move(reply.text)};
  }
  protocol::append_api_result(out, reply.text);
  return {200, std::move(out)};
}

// Answers the request on conn with what `start` eventually produces: at once if it replies before
// returning, otherwise later through a ticket of the connection (which keeps answers in request
// order while it goes on reading pipelined requests), if the connection is still open then.
void answer(HttpSession& conn, LoopContext& ctx, bool keep, Body body,
            const std::function<void(ApiReplyCallback)>& start) {
  struct State {
    bool returned = false;
    uint64_t ticket = 0;
    std::optional<ApiReply> early;
  };
  auto state = std::make_shared<State>();
  uint64_t id = conn.conn().id();
  start([state, &ctx, id, keep, body](ApiReply reply) {
    if (!state->returned) {
      state->early = std::move(reply);
      return;
    }
    auto it = ctx.async_waiting.find(id);
    if (it == ctx.async_waiting.end()) {
      return;  // the backend hung up: nobody to answer
    }
    auto [status, text] = render(ctx, body, std::move(reply));
    it->second->answer_async(state->ticket, status, kJson, text, keep);
  });
  state->returned = true;
  if (state->early) {
    auto [status, text] = render(ctx, body, std::move(*state->early));
    conn.respond(status, kJson, text, keep);
  } else {
    state->ticket = conn.begin_async();
  }
}

// A batch: its commands run one after the other, each starting when the previous one replied, so
// that a batch "publish, then history" sees its own publication.
class Batch : public std::enable_shared_from_this<Batch> {
 public:
  Batch(LoopContext& ctx, std::vector<protocol::ApiDecoded> items, ApiReplyCallback done)
      : ctx_(ctx), items_(std::move(items)), done_(std::move(done)) {
    replies_ = "{\"replies\":[";
  }

  // Runs the commands from the next one on. A command that replies at once is followed in this
  // same loop (no recursion, however many there are); one that replies later resumes it.
  void step() {
    while (next_ < items_.size()) {
      size_t i = next_++;
      if (i > 0) {
        replies_ += ',';
      }
      if (auto* err = std::get_if<protocol::ApiError>(&items_[i])) {
        ctx_.metrics.api_errors.add();
        protocol::append_api_error(replies_, err->code, err->message);
        continue;
      }
      waiting_ = true;
      in_step_ = true;
      execute(ctx_, std::get<protocol::ApiCommand>(items_[i]),
              [self = shared_from_this()](ApiReply reply) {
                if (reply.error) {
                  self->ctx_.metrics.api_errors.add();
                  protocol::append_api_error(self->replies_, *reply.error, reply.text);
                } else {
                  protocol::append_api_result(self->replies_, reply.text);
                }
                self->waiting_ = false;
                if (!self->in_step_) {
                  self->step();
                }
              });
      in_step_ = false;
      if (waiting_) {
        return;
      }
    }
    replies_ += "]}";
    done_(ApiReply::result(std::move(replies_)));  // the whole body (Body::kWhole)
  }

 private:
  LoopContext& ctx_;
  std::vector<protocol::ApiDecoded> items_;
  ApiReplyCallback done_;
  std::string replies_;
  size_t next_ = 0;
  bool waiting_ = false;
  bool in_step_ = false;
};

void run_batch(HttpSession& conn, LoopContext& ctx, std::string_view body, bool keep) {
  std::vector<protocol::ApiDecoded> items;
  if (auto err = ctx.api_decoder.decode_batch(body, items)) {
    respond_error(conn, ctx, keep, err->code, err->message);
    return;
  }
  answer(conn, ctx, keep, Body::kWhole, [&ctx, &items](ApiReplyCallback done) {
    std::make_shared<Batch>(ctx, std::move(items), std::move(done))->step();
  });
}

}  // namespace

void handle_api(HttpSession& conn, LoopContext& ctx, const http::Request& req,
                std::string_view body) {
  bool keep = req.keep_alive;
  ctx.metrics.api_requests.add();
  if (req.method != http::Method::kPost) {
    conn.respond(405, kJson, R"({"error":{"code":100,"message":"use POST","temporary":false}})",
                 keep, "Allow: POST\r\n");
    return;
  }
  if (!authorized(conn, ctx, req, keep)) {
    return;
  }
  if (!ctx.core.limits->charge_api(ctx.loop.now_ms())) {
    ctx.metrics.api_rate_refusals.add();
    ctx.metrics.api_errors.add();
    std::string out;
    protocol::append_api_error(out, protocol::ErrorCode::kTooManyRequests,
                               "server API rate over the limit");
    conn.respond(429, kJson, out, keep, "Retry-After: 1\r\n");
    return;
  }
  std::string_view method = req.path.substr(5);  // after "/api/"
  if (method == "batch") {
    run_batch(conn, ctx, body, keep);
    return;
  }
  protocol::ApiDecoded decoded = ctx.api_decoder.decode(method, body);
  if (auto* err = std::get_if<protocol::ApiError>(&decoded)) {
    respond_error(conn, ctx, keep, err->code, err->message);
    return;
  }
  auto& cmd = std::get<protocol::ApiCommand>(decoded);
  answer(conn, ctx, keep, Body::kResult,
         [&ctx, &cmd](ApiReplyCallback done) { execute(ctx, cmd, std::move(done)); });
}

}  // namespace herald::server
