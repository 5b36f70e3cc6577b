// RedisBroker, part 3: presence, a hash and a lease zset per channel shared by every node; each
// node renews the leases of the members it added. Thread: the Redis loop.
#include <spdlog/spdlog.h>

#include "broker/publisher_codec.h"
#include "broker/redis_broker.h"
#include "broker/redis_replies.h"

namespace herald::broker {

using redis_replies::bad_reply;
using redis_replies::parse_history;
using redis_replies::parse_publication;
using redis_replies::reply_u64;
using resp::Reply;
using resp::Type;

void RedisBroker::presence_add(int loop_index, std::string_view channel, ClientInfo who,
                               bool announce_it, size_t limit, AddedCallback done) {
  io_loop_->post([this, loop_index, announce_it, limit, name = std::string(channel),
                  who = std::move(who), done = std::move(done)]() mutable {
    Shard& shard = shard_for(name);
    RedisConnection& conn = *shard.cmd;
    if (!conn.ready()) {
      reply<Result<bool>>(loop_index, std::move(done), Error{unavailable(shard)});
      return;
    }
    std::string packed = pack_client(who);
    // Renewed from now on, unless Redis refuses it; recorded before the answer so that a remove
    // posted meanwhile (it runs before the answer comes) is not undone by it.
    members_[name][who.client] = packed;
    std::vector<std::string> args{key(name, 'p'),
                                  key(name, 'q'),
                                  who.client,
                                  packed,
                                  std::to_string(limit),
                                  std::to_string(options_.presence_lease_ms),
                                  fanout_channel(name),
                                  announce_it ? "1" : "0"};
    eval(conn, redis_scripts::presence_add(), std::move(args), 2,
         [this, loop_index, name, client = who.client,
          done = std::move(done)](Result<Reply> r) mutable {
           bool added = r.ok() && r->type == Type::kInteger && r->integer == 1;
           if (!added) {
             forget_member(name, client);
           }
           if (!r.ok()) {
             reply<Result<bool>>(loop_index, std::move(done), Error{r.error()});
             return;
           }
           if (r->type != Type::kInteger) {
             reply<Result<bool>>(loop_index, std::move(done), bad_reply("presence add", *r));
             return;
           }
           reply<Result<bool>>(loop_index, std::move(done), Result<bool>(added));
         });
  });
}

void RedisBroker::presence_remove(int /*loop_index*/, std::string_view channel,
                                  std::string_view client, bool announce_it) {
  io_loop_->post([this, announce_it, name = std::string(channel), client = std::string(client)] {
    forget_member(name, client);
    // While Redis is away the member stays there until its lease ends.
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), client, fanout_channel(name),
                                  announce_it ? "1" : "0"};
    eval(*shard_for(name).cmd, redis_scripts::presence_remove(), std::move(args), 2, nullptr);
  });
}

void RedisBroker::presence(int loop_index, std::string_view channel, PresenceCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "list", fanout_channel(name),
                                  announces(name) ? "1" : "0"};
    eval(*shard_for(name).cmd, redis_scripts::presence_read(), std::move(args), 2,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok() || !r->is_array()) {
             reply<Result<std::vector<ClientInfo>>>(
                 loop_index, std::move(done),
                 r.ok() ? bad_reply("presence", *r) : Error{r.error()});
             return;
           }
           std::vector<ClientInfo> clients;
           for (const Reply& e : r->elements) {
             ClientInfo who = unpack_publisher(e.str);
             if (!who.client.empty()) {
               clients.push_back(std::move(who));
             }
           }
           reply<Result<std::vector<ClientInfo>>>(loop_index, std::move(done), std::move(clients));
         });
  });
}

void RedisBroker::presence_stats(int loop_index, std::string_view channel,
                                 PresenceStatsCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "stats", fanout_channel(name),
                                  announces(name) ? "1" : "0"};
    eval(*shard_for(name).cmd, redis_scripts::presence_read(), std::move(args), 2,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok() || !r->is_array() || r->elements.size() != 2) {
             reply<Result<PresenceStats>>(
                 loop_index, std::move(done),
                 r.ok() ? bad_reply("presence_stats", *r) : Error{r.error()});
             return;
           }
           PresenceStats stats{reply_u64(r->elements[0]), reply_u64(r->elements[1])};
           reply<Result<PresenceStats>>(loop_index, std::move(done), stats);
         });
  });
}

void RedisBroker::forget_member(const std::string& name, const std::string& client) {
  if (auto m = members_.find(name); m != members_.end()) {
    m->second.erase(client);
    if (m->second.empty()) {
      members_.erase(m);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Connections per user over every node: a zset per user with a lease per connection, renewed
// with the presence, so the connections of a node that died stop counting after the lease.

std::string RedisBroker::user_key(std::string_view user) const {
  std::string k = options_.prefix + ":u:{";
  k += user;
  k += '}';
  return k;
}

void RedisBroker::user_admit(int loop_index, std::string_view user, std::string_view client,
                             size_t limit, AddedCallback done) {
  io_loop_->post([this, loop_index, limit, user = std::string(user), client = std::string(client),
                  done = std::move(done)]() mutable {
    Shard& shard = shard_for(user);
    RedisConnection& conn = *shard.cmd;
    if (!conn.ready()) {
      reply<Result<bool>>(loop_index, std::move(done), Error{unavailable(shard)});
      return;
    }
    user_clients_[user].insert(client);  // before the answer: a release meanwhile wins
    std::vector<std::string> args{user_key(user), client, std::to_string(limit),
                                  std::to_string(options_.presence_lease_ms)};
    eval(conn, redis_scripts::user_admit(), std::move(args), 1,
         [this, loop_index, user, client, done = std::move(done)](Result<Reply> r) mutable {
           bool admitted = r.ok() && r->type == Type::kInteger && r->integer == 1;
           if (!admitted) {
             forget_user_client(user, client);
           }
           if (!r.ok() || r->type != Type::kInteger) {
             reply<Result<bool>>(loop_index, std::move(done),
                                 r.ok() ? bad_reply("user admit", *r) : Error{r.error()});
             return;
           }
           reply<Result<bool>>(loop_index, std::move(done), Result<bool>(admitted));
         });
  });
}

void RedisBroker::user_release(std::string_view user, std::string_view client) {
  io_loop_->post([this, user = std::string(user), client = std::string(client)] {
    forget_user_client(user, client);
    shard_for(user).cmd->command({"ZREM", user_key(user), client}, nullptr);
  });
}

void RedisBroker::forget_user_client(const std::string& user, const std::string& client) {
  if (auto u = user_clients_.find(user); u != user_clients_.end()) {
    u->second.erase(client);
    if (u->second.empty()) {
      user_clients_.erase(u);
    }
  }
}

void RedisBroker::refresh_users() {
  for (const auto& [user, clients] : user_clients_) {
    std::vector<std::string> args{user_key(user), std::to_string(options_.presence_lease_ms)};
    args.insert(args.end(), clients.begin(), clients.end());
    eval(*shard_for(user).cmd, redis_scripts::user_refresh(), std::move(args), 1, nullptr);
  }
}

bool RedisBroker::announces(std::string_view channel) const {
  return policy_ && policy_(channel).announce_presence;
}

// Every lease/3: renews the leases of this node's members (and its users' connections and its
// holds), and sweeps the channels this node follows for subscribers whose namespace announces
// leaves, so the members of a node that died leave (and their leaves are pushed here) at most
// lease + lease/3 after it stopped renewing; the holds of such a node end as soon.
void RedisBroker::refresh_presence() {
  using Clients = std::unordered_map<std::string, std::string>;
  auto refresh = [this](const std::string& name, const Clients* clients) {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'),
                                  std::to_string(options_.presence_lease_ms), fanout_channel(name),
                                  announces(name) ? "1" : "0"};
    if (clients != nullptr) {
      for (const auto& [client, packed] : *clients) {
        args.push_back(client);
        args.push_back(packed);
      }
    }
    eval(*shard_for(name).cmd, redis_scripts::presence_refresh(), std::move(args), 2, nullptr);
  };
  for (const auto& [name, clients] : members_) {
    refresh(name, &clients);
  }
  refresh_users();
  refresh_holds();
  sweep_holds();
  for (const auto& [name, c] : channels_) {
    if (c.state == NodeChannel::State::kLive && !members_.contains(name) && announces(name)) {
      refresh(name, nullptr);
    }
  }
}

}  // namespace herald::broker
