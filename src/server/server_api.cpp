#include "server/server_api.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>
#include <variant>

#include "protocol/messages.h"
#include "server/connection.h"
#include "server/loop_context.h"

namespace herald::server {
namespace {

constexpr std::string_view kJson = "application/json";

void respond_error(Connection& conn, bool keep, protocol::ErrorCode code,
                   std::string_view message = {}) {
  std::string body;
  protocol::append_api_error(body, code, message);
  conn.respond(protocol::http_status(code), kJson, body, keep);
}

void respond_result(Connection& conn, bool keep, std::string_view result) {
  std::string body;
  protocol::append_api_result(body, result);
  conn.respond(200, kJson, body, keep);
}

// Runs `answer` with the connection if it is still open when the broker replies.
template <typename Fn>
auto later(LoopContext& ctx, uint64_t conn_id, Fn answer) {
  return [&ctx, conn_id, answer = std::move(answer)](auto result) mutable {
    auto it = ctx.async_waiting.find(conn_id);
    if (it == ctx.async_waiting.end()) {
      return;  // the backend hung up: nobody to answer
    }
    Connection& conn = *it->second;
    answer(conn, std::move(result));
    conn.end_async();
  };
}

bool authorized(Connection& conn, const ServerOptions& opt, const http::Request& req, bool keep) {
  if (opt.api_key.empty()) {
    if (conn.peer_is_loopback()) {
      return true;
    }
    respond_error(conn, keep, protocol::ErrorCode::kPermissionDenied,
                  "no API key is configured: the server API answers loopback peers only");
    return false;
  }
  std::string_view given = req.header("X-API-Key");
  // Constant time, so the key cannot be guessed byte by byte from response times.
  if (given.size() != opt.api_key.size() ||
      CRYPTO_memcmp(given.data(), opt.api_key.data(), given.size()) != 0) {
    respond_error(conn, keep, protocol::ErrorCode::kUnauthorized, "missing or wrong X-API-Key");
    return false;
  }
  return true;
}

std::vector<protocol::PublicationView> views(const hub::HistoryResult& h,
                                             std::vector<protocol::ClientInfoView>& infos) {
  std::vector<protocol::PublicationView> out;
  infos.reserve(h.publications.size());
  for (const auto& rec : h.publications) {
    infos.push_back(protocol::ClientInfoView{rec.publisher.user, rec.publisher.client,
                                             rec.publisher.info});
    out.push_back(protocol::PublicationView{rec.offset, h.top.epoch, rec.data,
                                            rec.publisher.client.empty() ? nullptr : &infos.back(),
                                            rec.time_ms});
  }
  return out;
}

void run(Connection& conn, LoopContext& ctx, protocol::ApiCommand& cmd, bool keep) {
  using protocol::ApiMethod;
  using protocol::ErrorCode;
  hub::Hub& hub = *ctx.hub;
  uint64_t id = conn.id();
  const ServerOptions& opt = ctx.core.options;
  switch (cmd.method) {
    case ApiMethod::kPublish: {
      conn.begin_async();
      hub::PublishRequest req{std::move(cmd.data), {}, std::move(cmd.idempotency_key),
                              hub::HistoryOptions{opt.history_size,
                                                  static_cast<int64_t>(opt.history_ttl_s) * 1000}};
      hub.publish(cmd.channel, std::move(req),
                  later(ctx, id, [keep](Connection& c, Result<hub::PublishResult> r) {
                    if (!r.ok()) {
                      respond_error(c, keep, ErrorCode::kUnavailable, r.error());
                      return;
                    }
                    std::string result;
                    protocol::append_publish_result(result, r->top.offset, r->top.epoch);
                    respond_result(c, keep, result);
                  }));
      return;
    }
    case ApiMethod::kHistory: {
      conn.begin_async();
      uint64_t after = cmd.since ? cmd.since->offset : 0;
      size_t limit = cmd.limit ? *cmd.limit : 0;
      if (cmd.limit && *cmd.limit == 0) {
        after = UINT64_MAX;  // only the position
      }
      hub.history(cmd.channel, after, limit,
                  later(ctx, id, [keep, since = cmd.since, reverse = cmd.reverse](
                                     Connection& c, Result<hub::HistoryResult> r) {
                    if (!r.ok()) {
                      respond_error(c, keep, ErrorCode::kUnavailable, r.error());
                      return;
                    }
                    hub::HistoryResult& h = r.value();
                    if (since && (since->epoch != h.top.epoch ||
                                  since->offset + 1 < h.top.first_offset)) {
                      respond_error(c, keep, ErrorCode::kUnrecoverablePosition);
                      return;
                    }
                    if (reverse) {
                      std::reverse(h.publications.begin(), h.publications.end());
                    }
                    std::vector<protocol::ClientInfoView> infos;
                    auto pubs = views(h, infos);
                    std::string result;
                    protocol::append_history_result(result, pubs, h.top.offset, h.top.epoch);
                    respond_result(c, keep, result);
                  }));
      return;
    }
    case ApiMethod::kPresence:
      conn.begin_async();
      hub.presence(cmd.channel, later(ctx, id, [keep](Connection& c,
                                                      Result<std::vector<hub::ClientInfo>> r) {
                     if (!r.ok()) {
                       respond_error(c, keep, ErrorCode::kUnavailable, r.error());
                       return;
                     }
                     std::vector<protocol::ClientInfoView> clients;
                     for (const auto& who : r.value()) {
                       clients.push_back({who.user, who.client, who.info});
                     }
                     std::string result;
                     protocol::append_presence_result(result, clients);
                     respond_result(c, keep, result);
                   }));
      return;
    case ApiMethod::kPresenceStats:
      conn.begin_async();
      hub.presence_stats(cmd.channel,
                         later(ctx, id, [keep](Connection& c, Result<hub::PresenceStats> r) {
                           if (!r.ok()) {
                             respond_error(c, keep, ErrorCode::kUnavailable, r.error());
                             return;
                           }
                           std::string result;
                           protocol::append_presence_stats_result(result, r->clients, r->users);
                           respond_result(c, keep, result);
                         }));
      return;
    case ApiMethod::kBroadcast: {
      // One publish per channel; the answer lists each channel's result (or error) in order once
      // the last one is back.
      struct Pending {
        std::vector<std::string> results;
        size_t remaining = 0;
      };
      auto pending = std::make_shared<Pending>();
      pending->results.resize(cmd.channels.size());
      pending->remaining = cmd.channels.size();
      conn.begin_async();
      hub::HistoryOptions history{opt.history_size,
                                  static_cast<int64_t>(opt.history_ttl_s) * 1000};
      for (size_t i = 0; i < cmd.channels.size(); ++i) {
        hub::PublishRequest req{cmd.data, {}, cmd.idempotency_key, history};
        hub.publish(cmd.channels[i], std::move(req),
                    [&ctx, id, keep, pending, i](Result<hub::PublishResult> r) {
                      std::string& out = pending->results[i];
                      if (r.ok()) {
                        protocol::append_publish_result(out, r->top.offset, r->top.epoch);
                      } else {
                        out = "{\"error\":";
                        protocol::append_error_object(out, ErrorCode::kUnavailable, r.error());
                        out += "}";
                      }
                      if (--pending->remaining > 0) {
                        return;
                      }
                      auto it = ctx.async_waiting.find(id);
                      if (it == ctx.async_waiting.end()) {
                        return;
                      }
                      std::string result = "{\"results\":[";
                      for (size_t k = 0; k < pending->results.size(); ++k) {
                        result += (k == 0 ? "" : ",") + pending->results[k];
                      }
                      result += "]}";
                      Connection& c = *it->second;
                      respond_result(c, keep, result);
                      c.end_async();
                    });
      }
      return;
    }
    case ApiMethod::kChannels:
    case ApiMethod::kDisconnect:
    case ApiMethod::kInfo:
      respond_error(conn, keep, ErrorCode::kNotAvailable, "not implemented in this version yet");
      return;
  }
}

}  // namespace

void handle_api(Connection& conn, LoopContext& ctx, const http::Request& req,
                std::string_view body) {
  bool keep = req.keep_alive;
  if (req.method != http::Method::kPost) {
    conn.respond(405, kJson, R"({"error":{"code":100,"message":"use POST","temporary":false}})",
                 keep, "Allow: POST\r\n");
    return;
  }
  if (!authorized(conn, ctx.core.options, req, keep)) {
    return;
  }
  std::string_view method = req.path.substr(5);  // after "/api/"
  if (method == "batch") {
    respond_error(conn, keep, protocol::ErrorCode::kNotAvailable,
                  "batch: not implemented in this version yet");
    return;
  }
  protocol::ApiDecoded decoded = ctx.api_decoder.decode(method, body);
  if (auto* err = std::get_if<protocol::ApiError>(&decoded)) {
    respond_error(conn, keep, err->code, err->message);
    return;
  }
  run(conn, ctx, std::get<protocol::ApiCommand>(decoded), keep);
}

}  // namespace herald::server
