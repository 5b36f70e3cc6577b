#include "server/cluster_api.h"

#include <charconv>
#include <memory>
#include <utility>
#include <vector>

#include "hub/hub.h"
#include "protocol/errors.h"
#include "server/api_commands.h"
#include "server/cluster.h"
#include "server/every_loop.h"
#include "server/loop_context.h"

namespace herald::server {
namespace {

using Counts = std::map<std::string, size_t>;

size_t to_size(std::string_view s) {
  size_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

void local_channels(LoopContext& ctx, std::string pattern, std::function<void(Counts)> done) {
  using Pairs = std::vector<std::pair<std::string, size_t>>;
  on_every_loop<Pairs>(
      ctx,
      [pattern = std::move(pattern)](LoopContext& loop) {
        Pairs out;
        loop.hub->for_each_channel([&](const std::string& name, size_t members) {
          if (members > 0 && (pattern.empty() || glob_match(pattern, name))) {
            out.emplace_back(name, members);
          }
        });
        return out;
      },
      [done = std::move(done)](std::vector<Pairs> per_loop) {
        Counts total;
        for (const Pairs& pairs : per_loop) {
          for (const auto& [name, n] : pairs) {
            total[name] += n;
          }
        }
        done(std::move(total));
      });
}

void local_info(LoopContext& ctx, std::function<void(InfoTotals)> done) {
  struct LoopInfo {
    size_t clients = 0;
    std::unordered_set<std::string> users;
    std::vector<std::string> channels;
  };
  on_every_loop<LoopInfo>(
      ctx,
      [](LoopContext& loop) {
        LoopInfo out;
        for (ProtocolSessions* sessions : loop.protocol_sessions) {
          out.clients += sessions->count_clients(out.users);
        }
        loop.hub->for_each_channel([&](const std::string& name, size_t members) {
          if (members > 0) {
            out.channels.push_back(name);
          }
        });
        return out;
      },
      [done = std::move(done)](std::vector<LoopInfo> per_loop) {
        InfoTotals t;
        for (LoopInfo& l : per_loop) {
          t.clients += l.clients;
          t.users.merge(l.users);
          t.channels.insert(std::make_move_iterator(l.channels.begin()),
                            std::make_move_iterator(l.channels.end()));
        }
        done(std::move(t));
      });
}

void local_disconnect(LoopContext& ctx, std::string user, std::function<void(size_t)> done) {
  on_every_loop<size_t>(
      ctx,
      [user = std::move(user)](LoopContext& loop) {
        size_t n = 0;
        for (ProtocolSessions* sessions : loop.protocol_sessions) {
          n += sessions->disconnect_user(
              user, static_cast<uint16_t>(protocol::DisconnectCode::kForceDisconnect),
              "force disconnect");
        }
        return n;
      },
      [done = std::move(done)](std::vector<size_t> per_loop) {
        size_t n = 0;
        for (size_t k : per_loop) {
          n += k;
        }
        done(n);
      });
}

// Bodies: length-prefixed fields (Cluster::put). channels: name, count pairs. info: clients,
// then "u" user / "c" channel pairs. disconnect: the count.
std::string encode_counts(const Counts& counts) {
  std::string out;
  for (const auto& [name, n] : counts) {
    Cluster::put(out, name);
    Cluster::put(out, std::to_string(n));
  }
  return out;
}

void decode_counts(std::string_view in, Counts& into) {
  std::string_view name, n;
  while (Cluster::take(in, name) && Cluster::take(in, n)) {
    into[std::string(name)] += to_size(n);
  }
}

std::string encode_info(const InfoTotals& t) {
  std::string out;
  Cluster::put(out, std::to_string(t.clients));
  for (const std::string& u : t.users) {
    Cluster::put(out, "u");
    Cluster::put(out, u);
  }
  for (const std::string& c : t.channels) {
    Cluster::put(out, "c");
    Cluster::put(out, c);
  }
  return out;
}

void decode_info(std::string_view in, InfoTotals& into) {
  std::string_view field, kind, value;
  if (!Cluster::take(in, field)) {
    return;
  }
  into.clients += to_size(field);
  while (Cluster::take(in, kind) && Cluster::take(in, value)) {
    (kind == "u" ? into.users : into.channels).emplace(value);
  }
}

}  // namespace

void all_channels(LoopContext& ctx, std::string pattern,
                  std::function<void(std::map<std::string, size_t>)> done) {
  Cluster* cluster = ctx.core.cluster.get();
  local_channels(ctx, pattern, [&ctx, cluster, pattern, done = std::move(done)](Counts mine) mutable {
    if (cluster == nullptr) {
      done(std::move(mine));
      return;
    }
    cluster->ask_all(ctx, "channels", pattern,
                     [mine = std::move(mine), done = std::move(done)](
                         std::vector<Cluster::Reply> replies) mutable {
                       for (const Cluster::Reply& r : replies) {
                         decode_counts(r.body, mine);
                       }
                       done(std::move(mine));
                     });
  });
}

void all_info(LoopContext& ctx, std::function<void(InfoTotals)> done) {
  Cluster* cluster = ctx.core.cluster.get();
  local_info(ctx, [&ctx, cluster, done = std::move(done)](InfoTotals mine) mutable {
    if (cluster == nullptr) {
      done(std::move(mine));
      return;
    }
    mine.nodes = cluster->node_count();
    cluster->ask_all(ctx, "info", {},
                     [mine = std::move(mine), done = std::move(done)](
                         std::vector<Cluster::Reply> replies) mutable {
                       for (const Cluster::Reply& r : replies) {
                         decode_info(r.body, mine);
                       }
                       done(std::move(mine));
                     });
  });
}

void all_disconnect(LoopContext& ctx, std::string user, std::function<void(size_t)> done) {
  Cluster* cluster = ctx.core.cluster.get();
  local_disconnect(ctx, user, [&ctx, cluster, user, done = std::move(done)](size_t mine) mutable {
    if (cluster == nullptr) {
      done(mine);
      return;
    }
    cluster->ask_all(ctx, "disconnect", user,
                     [mine, done = std::move(done)](std::vector<Cluster::Reply> replies) {
                       size_t n = mine;
                       for (const Cluster::Reply& r : replies) {
                         n += to_size(r.body);
                       }
                       done(n);
                     });
  });
}

void register_cluster_api(Cluster& cluster) {
  cluster.handle("channels", [](LoopContext& ctx, std::string_view, std::string_view body,
                                Cluster::Answer answer) {
    local_channels(ctx, std::string(body),
                   [answer = std::move(answer)](Counts c) { answer(encode_counts(c)); });
  });
  cluster.handle("info", [](LoopContext& ctx, std::string_view, std::string_view,
                            Cluster::Answer answer) {
    local_info(ctx, [answer = std::move(answer)](InfoTotals t) { answer(encode_info(t)); });
  });
  cluster.handle("disconnect", [](LoopContext& ctx, std::string_view, std::string_view body,
                                  Cluster::Answer answer) {
    local_disconnect(ctx, std::string(body),
                     [answer = std::move(answer)](size_t n) { answer(std::to_string(n)); });
  });
}

}  // namespace herald::server
