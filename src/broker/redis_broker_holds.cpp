// RedisBroker, part 6: holds over every node (Broker::hold), for what a cluster decides once:
// the Pusher webhooks' channel_occupied/vacated and member_added/removed.
//
// On the home shard (the nodes' registry), under one hash tag so that a Redis Cluster keeps them
// in one slot: `<prefix>:{<prefix>:nodes}:holds`, the index (key -> the latest lease end of its
// holders), and `<prefix>:{<prefix>:nodes}:holds:<key>`, each key's holders (node id -> lease
// end). Every change is one script, so two nodes holding or releasing a key at once see one
// order: exactly one of them is the first holder, exactly one the last. A node renews its holds
// every lease/3 with its presence (putting back any that Redis lost); every node also sweeps the
// index for keys whose holders all stopped renewing (their node died) and ends them, each in a
// script of its own, so exactly one node ends each and tells its HoldSink.
// Thread: the Redis loop (hold and release post to it).
#include <spdlog/spdlog.h>

#include "broker/redis_broker.h"
#include "broker/redis_replies.h"

namespace herald::broker {

using redis_replies::bad_reply;
using resp::Reply;
using resp::Type;

namespace {

constexpr size_t kSweepBatch = 500;     // keys ended per sweep at most
constexpr size_t kRefreshBatch = 200;   // keys renewed per script

}  // namespace

std::string RedisBroker::holds_key() const {
  return options_.prefix + ":{" + all_nodes_channel() + "}:holds";
}

std::string RedisBroker::holders_key(std::string_view key) const {
  std::string k = holds_key();
  k += ':';
  k += key;
  return k;
}

void RedisBroker::hold(int loop_index, std::string_view key, HoldCallback done) {
  io_loop_->post([this, loop_index, name = std::string(key), done = std::move(done)]() mutable {
    change_hold(loop_index, name, true, std::move(done));
  });
}

void RedisBroker::release(int loop_index, std::string_view key, HoldCallback done) {
  io_loop_->post([this, loop_index, name = std::string(key), done = std::move(done)]() mutable {
    change_hold(loop_index, name, false, std::move(done));
  });
}

// A hold is renewed from the call on, even when the call fails (Redis gets it back once it is
// reachable); a release that fails leaves the hold in Redis until its lease ends and a sweep
// ends it.
void RedisBroker::change_hold(int loop_index, const std::string& name, bool acquire,
                              HoldCallback done) {
  if (acquire) {
    held_.insert(name);
  } else {
    held_.erase(name);
  }
  RedisConnection& conn = *home().cmd;
  if (!conn.ready()) {
    reply<Result<HoldChange>>(loop_index, std::move(done), Error{unavailable(home())});
    return;
  }
  std::vector<std::string> args{holders_key(name), holds_key(), node_id_};
  if (acquire) {
    args.push_back(std::to_string(options_.presence_lease_ms));
  }
  args.push_back(name);
  eval(conn, acquire ? redis_scripts::hold_acquire() : redis_scripts::hold_release(),
       std::move(args), 2,
       [this, loop_index, acquire, done = std::move(done)](Result<Reply> r) mutable {
         if (!r.ok() || r->type != Type::kInteger) {
           reply<Result<HoldChange>>(loop_index, std::move(done),
                                     r.ok() ? bad_reply("hold", *r) : Error{r.error()});
           return;
         }
         // acquire: 0 another node holds it, 1 first, 2 first after unreported ends.
         // release: 1 last.
         HoldChange change{acquire ? r->integer != 0 : r->integer == 1,
                           acquire && r->integer == 2};
         reply<Result<HoldChange>>(loop_index, std::move(done), change);
       });
}

void RedisBroker::refresh_holds() {
  RedisConnection& conn = *home().cmd;
  if (held_.empty() || !conn.ready()) {
    return;
  }
  std::string lease = std::to_string(options_.presence_lease_ms);
  auto it = held_.begin();
  while (it != held_.end()) {
    std::vector<std::string> keys{holds_key()};
    std::vector<std::string> names{node_id_, lease};
    for (; it != held_.end() && keys.size() <= kRefreshBatch; ++it) {
      keys.push_back(holders_key(*it));
      names.push_back(*it);
    }
    size_t num_keys = keys.size();
    keys.insert(keys.end(), std::make_move_iterator(names.begin()),
                std::make_move_iterator(names.end()));
    eval(conn, redis_scripts::hold_refresh(), std::move(keys), num_keys, nullptr);
  }
}

// The keys ended here reach the sink together, once every one of them is answered, so that the
// sink can order what it reports (members before their channel).
void RedisBroker::sweep_holds() {
  RedisConnection& conn = *home().cmd;
  if (hold_sink_ == nullptr || !conn.ready()) {
    return;
  }
  std::vector<std::string> args{holds_key(), std::to_string(kSweepBatch)};
  eval(conn, redis_scripts::holds_expired(), std::move(args), 1, [this](Result<Reply> found) {
    if (!found.ok() || !found->is_array() || found->elements.empty()) {
      return;
    }
    auto ended = std::make_shared<std::vector<std::string>>();
    auto left = std::make_shared<size_t>(found->elements.size());
    for (const Reply& e : found->elements) {
      std::vector<std::string> end_args{holders_key(e.str), holds_key(), e.str};
      eval(*home().cmd, redis_scripts::hold_end(), std::move(end_args), 2,
           [this, ended, left, name = e.str](Result<Reply> r) {
             if (r.ok() && r->type == Type::kInteger && r->integer == 1) {
               ended->push_back(name);
             }
             if (--*left == 0 && !ended->empty()) {
               spdlog::info("redis broker: {} hold(s) of stopped nodes ended here", ended->size());
               hold_sink_->on_holds_abandoned(std::move(*ended));
             }
           });
    }
  });
}

}  // namespace herald::broker
