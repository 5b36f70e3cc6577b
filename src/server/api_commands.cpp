#include "server/api_commands.h"

#include <map>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hub/hub.h"
#include "protocol/json_writer.h"
#include "protocol/messages.h"
#include "server/cluster_api.h"
#include "server/history_query.h"
#include "server/loop_context.h"
#include "server/version.h"

namespace herald::server {
namespace {

using protocol::ErrorCode;

std::vector<protocol::PublicationView> views(const broker::HistoryResult& h,
                                             std::vector<protocol::ClientInfoView>& infos) {
  std::vector<protocol::PublicationView> out;
  infos.reserve(h.publications.size());
  for (const auto& rec : h.publications) {
    infos.push_back(
        protocol::ClientInfoView{rec.publisher.user, rec.publisher.client, rec.publisher.info});
    out.push_back(protocol::PublicationView{rec.offset, h.top.epoch, rec.data,
                                            rec.publisher.client.empty() ? nullptr : &infos.back(),
                                            rec.time_ms});
  }
  return out;
}

ApiReply unknown_namespace(std::string_view channel) {
  std::string_view ns = channel.substr(0, channel.find(':'));
  return ApiReply::failure(ErrorCode::kUnknownNamespace, "unknown namespace: " + std::string(ns));
}

// The namespace of channel, or nullptr after answering 118.
const NamespaceOptions* namespace_of(LoopContext& ctx, std::string_view channel,
                                     ApiReplyCallback& done) {
  const NamespaceOptions* ns = ctx.core.namespaces.find(channel);
  if (ns == nullptr) {
    done(unknown_namespace(channel));
  }
  return ns;
}

void publish(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  if (namespace_of(ctx, cmd.channel, done) == nullptr) {
    return;
  }
  broker::PublishRequest req{std::move(cmd.data), {}, std::move(cmd.idempotency_key)};
  ctx.hub->publish(cmd.channel, std::move(req),
                   [&ctx, done = std::move(done)](Result<broker::PublishResult> r) {
                     if (!r.ok()) {
                       done(ApiReply::failure(ErrorCode::kUnavailable, r.error()));
                       return;
                     }
                     if (!r->duplicate) {
                       ctx.metrics.channel_publications.add();
                     }
                     std::string result;
                     protocol::append_publish_result(result, r->top.offset, r->top.epoch);
                     done(ApiReply::result(std::move(result)));
                   });
}

// One publish per channel; the reply lists each channel's result (or error) in order once the
// last one is back.
void broadcast(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  struct Pending {
    std::vector<std::string> results;
    size_t remaining = 0;
    ApiReplyCallback done;
  };
  auto pending = std::make_shared<Pending>();
  pending->results.resize(cmd.channels.size());
  pending->remaining = cmd.channels.size();
  pending->done = std::move(done);
  auto settle = [pending](size_t i, std::string entry) {
    pending->results[i] = std::move(entry);
    if (--pending->remaining > 0) {
      return;
    }
    std::string result = "{\"results\":[";
    for (size_t k = 0; k < pending->results.size(); ++k) {
      result += (k == 0 ? "" : ",") + pending->results[k];
    }
    result += "]}";
    pending->done(ApiReply::result(std::move(result)));
  };
  auto error_entry = [](ErrorCode code, std::string_view message) {
    std::string out = "{\"error\":";
    protocol::append_error_object(out, code, message);
    out += "}";
    return out;
  };
  for (size_t i = 0; i < cmd.channels.size(); ++i) {
    const std::string& channel = cmd.channels[i];
    if (ctx.core.namespaces.find(channel) == nullptr) {
      ApiReply r = unknown_namespace(channel);
      settle(i, error_entry(*r.error, r.text));
      continue;
    }
    broker::PublishRequest req{cmd.data, {}, cmd.idempotency_key};
    ctx.hub->publish(channel, std::move(req),
                     [&ctx, settle, error_entry, i](Result<broker::PublishResult> r) {
                       std::string entry;
                       if (r.ok()) {
                         if (!r->duplicate) {
                           ctx.metrics.channel_publications.add();
                         }
                         protocol::append_publish_result(entry, r->top.offset, r->top.epoch);
                       } else {
                         entry = error_entry(ErrorCode::kUnavailable, r.error());
                       }
                       settle(i, std::move(entry));
                     });
  }
}

void history(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  const NamespaceOptions* ns = namespace_of(ctx, cmd.channel, done);
  if (ns == nullptr) {
    return;
  }
  if (ns->history_size == 0) {
    done(ApiReply::failure(ErrorCode::kNotAvailable, "the namespace keeps no history"));
    return;
  }
  ctx.hub->history(
      cmd.channel, history_query(cmd.since, cmd.limit, cmd.reverse),
      [since = cmd.since, done = std::move(done)](Result<broker::HistoryResult> r) {
        if (auto code = history_error(since, r)) {
          done(ApiReply::failure(*code, r.ok() ? std::string() : r.error()));
          return;
        }
        std::vector<protocol::ClientInfoView> infos;
        auto pubs = views(r.value(), infos);
        std::string result;
        protocol::append_history_result(result, pubs, r.value().top.offset, r.value().top.epoch);
        done(ApiReply::result(std::move(result)));
      });
}

void presence(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  const NamespaceOptions* ns = namespace_of(ctx, cmd.channel, done);
  if (ns == nullptr) {
    return;
  }
  if (!ns->presence) {
    done(ApiReply::failure(ErrorCode::kNotAvailable, "presence is off in the namespace"));
    return;
  }
  if (cmd.method == protocol::ApiMethod::kPresenceStats) {
    ctx.hub->presence_stats(cmd.channel, [done = std::move(done)](Result<broker::PresenceStats> r) {
      if (!r.ok()) {
        done(ApiReply::failure(ErrorCode::kUnavailable, r.error()));
        return;
      }
      std::string result;
      protocol::append_presence_stats_result(result, r->clients, r->users);
      done(ApiReply::result(std::move(result)));
    });
    return;
  }
  ctx.hub->presence(cmd.channel, [done = std::move(done)](Result<std::vector<broker::ClientInfo>> r) {
    if (!r.ok()) {
      done(ApiReply::failure(ErrorCode::kUnavailable, r.error()));
      return;
    }
    std::vector<protocol::ClientInfoView> clients;
    for (const auto& who : r.value()) {
      clients.push_back({who.user, who.client, who.info});
    }
    std::string result;
    protocol::append_presence_result(result, clients);
    done(ApiReply::result(std::move(result)));
  });
}

// Channels with subscribers on any loop of any node, with their subscriber counts summed.
void channels(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  all_channels(ctx, cmd.pattern, [done = std::move(done)](std::map<std::string, size_t> total) {
    std::string result = "{\"channels\":{";
    bool first = true;
    for (const auto& [name, n] : total) {
      result += first ? "" : ",";
      first = false;
      protocol::append_json_string(result, name);
      result += ":{\"num_clients\":" + std::to_string(n) + "}";
    }
    result += "}}";
    done(ApiReply::result(std::move(result)));
  });
}

void disconnect(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  all_disconnect(ctx, cmd.user,
                 [done = std::move(done)](size_t /*closed*/) { done(ApiReply::result("{}")); });
}

void info(LoopContext& ctx, ApiReplyCallback done) {
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 ctx.core.started_at)
                    .count();
  all_info(ctx, [uptime, done = std::move(done)](InfoTotals t) {
    std::string result = "{\"version\":";
    protocol::append_json_string(result, kServerVersion);
    result += ",\"protocol\":" + std::to_string(protocol::kProtocolVersion) +
              ",\"uptime\":" + std::to_string(uptime) +
              ",\"num_nodes\":" + std::to_string(t.nodes) +
              ",\"num_clients\":" + std::to_string(t.clients) +
              ",\"num_users\":" + std::to_string(t.users.size()) +
              ",\"num_channels\":" + std::to_string(t.channels.size()) + "}";
    done(ApiReply::result(std::move(result)));
  });
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Greedy with backtracking to the last star: linear in practice, O(n*m) at worst, and both are
  // bounded (255-byte names and patterns).
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

void execute(LoopContext& ctx, protocol::ApiCommand& cmd, ApiReplyCallback done) {
  using protocol::ApiMethod;
  switch (cmd.method) {
    case ApiMethod::kPublish:
      publish(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kBroadcast:
      broadcast(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kHistory:
      history(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kPresence:
    case ApiMethod::kPresenceStats:
      presence(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kChannels:
      channels(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kDisconnect:
      disconnect(ctx, cmd, std::move(done));
      return;
    case ApiMethod::kInfo:
      info(ctx, std::move(done));
      return;
  }
}

}  // namespace herald::server
