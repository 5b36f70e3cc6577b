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
    RedisConnection& conn = shard_for(name);
    if (!conn.ready()) {
      reply<Result<bool>>(loop_index, std::move(done),
                          Error{"redis " + options_.url.address() + " is unavailable"});
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
    eval(shard_for(name), redis_scripts::presence_remove(), std::move(args), 2, nullptr);
  });
}

void RedisBroker::presence(int loop_index, std::string_view channel, PresenceCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "list"};
    eval(shard_for(name), redis_scripts::presence_read(), std::move(args), 2,
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
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "stats"};
    eval(shard_for(name), redis_scripts::presence_read(), std::move(args), 2,
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

void RedisBroker::refresh_presence() {
  if (!cmd_->ready()) {
    return;
  }
  for (const auto& [name, clients] : members_) {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'),
                                  std::to_string(options_.presence_lease_ms)};
    for (const auto& [client, packed] : clients) {
      args.push_back(client);
      args.push_back(packed);
    }
    eval(shard_for(name), redis_scripts::presence_refresh(), std::move(args), 2, nullptr);
  }
}

}  // namespace herald::broker
