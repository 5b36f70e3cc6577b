#include "broker/redis_broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "broker/publisher_codec.h"
#include "broker/redis_cluster.h"
#include "broker/redis_replies.h"

namespace herald::broker {
namespace {

// FNV-1a, then a 64-bit finalizer (murmur3's): stable across builds and machines, which the
// shard map must be (every node computes it on its own).
uint64_t ring_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h = (h ^ c) * 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

using redis_replies::bad_reply;
using redis_replies::parse_history;
using redis_replies::parse_publication;
using redis_replies::reply_u64;
using redis_replies::steady_ns_to_wall_us;
using resp::Reply;
using resp::Type;

// Renews this node's presence leases every lease/3. Thread: the Redis loop.
class RedisBroker::RefreshTimer final : public net::Timer {
 public:
  explicit RefreshTimer(RedisBroker& broker) : broker_(broker) {}
  void arm() {
    uint32_t every = std::max<uint32_t>(broker_.options_.presence_lease_ms / 3, 100);
    broker_.io_loop_->timers().arm(*this, broker_.io_loop_->now_ms(), every);
  }

 private:
  void on_timer() override {
    broker_.refresh_presence();
    arm();
  }
  RedisBroker& broker_;
};

RedisBroker::RedisBroker(std::vector<net::EventLoop*> loops, RedisBrokerOptions options,
                         HistoryPolicy policy)
    : loops_(std::move(loops)),
      options_(std::move(options)),
      policy_(std::move(policy)),
      sinks_(loops_.size(), nullptr) {
  io_loop_ = std::make_unique<net::EventLoop>(static_cast<int>(loops_.size()));
  for (const RedisUrl& url : options_.shards) {
    add_shard(url);
  }
  // Each shard owns the arcs of the ring before its points: a channel goes to the first point
  // at or after its hash. 64 points per shard, named by its address (not its place in the
  // list), keep the shares even and let every node compute the same map.
  for (uint32_t i = 0; i < shards_.size(); ++i) {
    const RedisUrl& u = shards_[i]->url;
    for (int p = 0; p < 64; ++p) {
      ring_.emplace_back(ring_hash(u.address() + "/" + std::to_string(u.db) + "#" +
                                   std::to_string(p)),
                         i);
    }
  }
  std::sort(ring_.begin(), ring_.end());
  slots_ = options_.cluster_slots;
  home_ = cluster() ? slots_[cluster_slot(all_nodes_channel())] : 0;
  refresh_timer_ = std::make_unique<RefreshTimer>(*this);
  node_id_ = new_epoch();  // 64 random bits, as hex
}

RedisBroker::~RedisBroker() {
  stop();
}

Result<Ok> RedisBroker::start() {
  if (auto r = io_loop_->init(); !r) {
    return r;
  }
  io_loop_->post([this] {
    for (auto& shard : shards_) {
      shard->cmd->start();
      shard->sub->start();
    }
    refresh_timer_->arm();
    start_nodes();
    if (cluster()) {
      topology_timer_ =
          std::make_unique<Ticker>(*io_loop_, kTopologyCheckMs, [this] { check_topology(); });
      topology_timer_->arm();
    }
  });
  thread_ = std::thread([this] { io_loop_->run(); });
  return Ok{};
}

void RedisBroker::stop() {
  if (!thread_.joinable()) {
    return;
  }
  io_loop_->post([this] {
    refresh_timer_->cancel();
    topology_timer_.reset();
    stop_nodes();
    for (auto& shard : shards_) {
      shard->cmd->stop();
      shard->sub->stop();
    }
    io_loop_->stop();
  });
  thread_.join();
}

void RedisBroker::attach(int loop_index, BrokerSink* sink) {
  sinks_[static_cast<size_t>(loop_index)] = sink;
}

std::string RedisBroker::key(std::string_view channel, char kind) const {
  std::string k;
  k.reserve(options_.prefix.size() + channel.size() + 6);
  k += options_.prefix;
  k += ":{";  // a hash tag: all of one channel's keys are in one Cluster slot
  k += channel;
  k += "}:";
  k += kind;
  return k;
}

std::string_view RedisBroker::channel_of(std::string_view fanout) const {
  std::string_view p = options_.prefix;
  if (fanout.size() < p.size() + 5 || fanout.substr(0, p.size()) != p ||
      fanout.substr(p.size(), 2) != ":{" || fanout.substr(fanout.size() - 3) != "}:f") {
    return {};
  }
  return fanout.substr(p.size() + 2, fanout.size() - p.size() - 5);
}

void RedisBroker::eval(RedisConnection& conn, const redis_scripts::Script& script,
                       std::vector<std::string> keys_and_args, size_t num_keys,
                       RedisConnection::Callback done) {
  eval_on(conn, cluster() ? redis_scripts::for_cluster(script) : script,
          std::make_shared<std::vector<std::string>>(std::move(keys_and_args)), num_keys, false,
          false, std::move(done));
}

// Redis Cluster: MOVED (the slot has a new master: remembered) and ASK (the slot is being
// migrated: this one command goes there, after ASKING) are followed once. A master this node
// did not know (added after the start) gets its two connections then, and the call waits for
// its command connection (redis_broker_topology.cpp).
void RedisBroker::eval_on(RedisConnection& conn, const redis_scripts::Script& script,
                          std::shared_ptr<std::vector<std::string>> args, size_t num_keys,
                          bool asking, bool redirected, RedisConnection::Callback done) {
  std::string nkeys = std::to_string(num_keys);
  std::vector<std::string_view> cmd{"EVALSHA", script.sha1, nkeys};
  cmd.insert(cmd.end(), args->begin(), args->end());
  if (asking) {
    conn.command({"ASKING"}, nullptr);  // applies to the next command on this connection
  }
  conn.command(cmd, [this, &conn, &script, args, nkeys, num_keys, asking, redirected,
                     done = std::move(done)](Result<Reply> r) mutable {
    if (r.ok() && r->is_error() && r->str.rfind("NOSCRIPT", 0) == 0) {
      // Redis restarted or its scripts were flushed since we loaded them: send the text.
      std::vector<std::string_view> again{"EVAL", script.text, nkeys};
      again.insert(again.end(), args->begin(), args->end());
      if (asking) {
        conn.command({"ASKING"}, nullptr);
      }
      conn.command(again, std::move(done));
      return;
    }
    if (r.ok() && r->is_error() && !redirected &&
        (r->str.rfind("MOVED ", 0) == 0 || r->str.rfind("ASK ", 0) == 0)) {
      bool moved = r->str[0] == 'M';
      if (auto to = follow_redirect(r->str)) {
        Shard& target = *shards_[*to];
        auto resend = [this, &target, &script, args, num_keys, moved,
                       done = std::move(done)](bool ok) mutable {
          if (!ok) {
            if (done) {
              done(Error{unavailable(target)});
            }
            return;
          }
          eval_on(*target.cmd, script, args, num_keys, !moved, true, std::move(done));
        };
        if (target.cmd->ready()) {
          resend(true);
        } else {
          target.when_ready.push_back(std::move(resend));
        }
        return;
      }
    }
    if (done) {
      done(std::move(r));
    }
  });
}

std::string RedisBroker::new_epoch() {
  char epoch[17];
  std::snprintf(epoch, sizeof(epoch), "%016llx", static_cast<unsigned long long>(rng_()));
  return epoch;
}

// The meta outlives the history by a day: a client idle past the history TTL whose channel saw
// nothing new still recovers, instead of meeting a new epoch.
int64_t RedisBroker::meta_ttl(const HistoryOptions& h) {
  return h.ttl_ms > 0 ? h.ttl_ms + 86'400'000 : 0;
}

// Ready when every Redis that holds channels is. In a Redis Cluster that is the masters that own
// a slot in the map: a master whose slots all moved away (and that may be gone) does not count.
void RedisBroker::update_ready() {
  bool all = true;
  std::vector<bool> owns(shards_.size(), !cluster());
  for (uint32_t owner : slots_) {
    owns[owner] = true;
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    all = all && (!owns[i] || shards_[i]->ready());
  }
  ready_.store(all, std::memory_order_relaxed);
}

RedisBroker::Shard& RedisBroker::shard_for(std::string_view name) {
  if (cluster()) {
    return *shards_[slots_[cluster_slot(key(name, 'm'))]];
  }
  if (shards_.size() == 1) {
    return *shards_.front();
  }
  auto it = std::lower_bound(ring_.begin(), ring_.end(),
                             std::make_pair(ring_hash(name), uint32_t{0}));
  return *shards_[it == ring_.end() ? ring_.front().second : it->second];
}

RedisBroker::Shard& RedisBroker::shard_of(const RedisConnection& c) {
  for (auto& shard : shards_) {
    if (shard->cmd.get() == &c || shard->sub.get() == &c) {
      return *shard;
    }
  }
  std::abort();  // every connection belongs to a shard
}

std::string RedisBroker::unavailable(const Shard& s) {
  metrics_.failure(RedisFailure::kNotConnected).add();
  return "redis " + s.url.address() + " is unavailable";
}

// ---------------------------------------------------------------------------------------------
// Publish and history

void RedisBroker::publish(int loop_index, std::string_view channel, PublishRequest request,
                          PublishCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), request = std::move(request),
                  done = std::move(done)]() mutable {
    Shard& shard = shard_for(name);
    RedisConnection& conn = *shard.cmd;
    if (!conn.ready()) {
      reply<Result<PublishResult>>(loop_index, std::move(done), Error{unavailable(shard)});
      return;
    }
    HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
    std::vector<std::string> args{key(name, 's'),
                                  key(name, 'm'),
                                  key(name, 'i'),
                                  key(name, 'k'),
                                  fanout_channel(name),
                                  std::move(request.data),
                                  pack_publisher(request.publisher),
                                  std::move(request.idempotency_key),
                                  std::to_string(h.max_publications),
                                  std::to_string(h.ttl_ms),
                                  std::to_string(meta_ttl(h)),
                                  new_epoch(),
                                  std::to_string(kIdempotencyWindowMs),
                                  std::to_string(kIdempotencyKeysPerChannel),
                                  std::to_string(steady_ns_to_wall_us(request.published_ns))};
    eval(conn, redis_scripts::publish(), std::move(args), 4,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok()) {
             reply<Result<PublishResult>>(loop_index, std::move(done), Error{r.error()});
             return;
           }
           Reply& v = r.value();
           if (!v.is_array() || v.elements.size() != 4) {
             reply<Result<PublishResult>>(loop_index, std::move(done), bad_reply("publish", v));
             return;
           }
           PublishResult out;
           out.top.epoch = v.elements[0].str;
           out.top.offset = reply_u64(v.elements[1]);
           out.top.first_offset = reply_u64(v.elements[2]);
           out.duplicate = reply_u64(v.elements[3]) != 0;
           reply<Result<PublishResult>>(loop_index, std::move(done), std::move(out));
         });
  });
}

void RedisBroker::read_history(int loop_index, std::string_view channel, const HistoryQuery& query,
                               HistoryCallback done) {
  io_loop_->post([this, loop_index, query, name = std::string(channel),
                  done = std::move(done)]() mutable {
    Shard& shard = shard_for(name);
    RedisConnection& conn = *shard.cmd;
    if (!conn.ready()) {
      reply<Result<HistoryResult>>(loop_index, std::move(done), Error{unavailable(shard)});
      return;
    }
    HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
    std::string limit = query.limit == HistoryQuery::kNoLimit ? "-1" : std::to_string(query.limit);
    std::vector<std::string> args{key(name, 's'),
                                  key(name, 'm'),
                                  query.reverse ? "1" : "0",
                                  std::to_string(query.after),
                                  std::to_string(query.before),
                                  limit,
                                  std::to_string(h.ttl_ms),
                                  "",
                                  "0"};
    eval(conn, redis_scripts::read(), std::move(args), 2,
         [this, loop_index, name, done = std::move(done)](Result<Reply> r) mutable {
           Result<HistoryResult> out =
               r.ok() ? parse_history(r.value()) : Result<HistoryResult>(Error{r.error()});
           deliver_read(name, loop_index, std::move(done), std::move(out));
         });
  });
}

// Contract 3: a read of a channel this node delivers live is answered only after everything up
// to its top was handed to the loops (publications travel on the other connection).
void RedisBroker::deliver_read(const std::string& name, int loop, HistoryCallback done,
                               Result<HistoryResult> r) {
  auto it = channels_.find(name);
  if (r.ok() && it != channels_.end() && it->second.state == NodeChannel::State::kLive) {
    NodeChannel& c = it->second;
    const StreamTop& top = r.value().top;
    bool same_epoch = top.epoch == c.epoch || (c.epoch.empty() && c.last == 0);
    if (same_epoch && top.offset > c.last) {
      c.held.push_back(NodeChannel::HeldRead{top.offset, loop, std::move(done), std::move(*r)});
      return;
    }
    flush_outbox(name, c);  // what the read covers reaches the loops before its answer
  }
  reply<Result<HistoryResult>>(loop, std::move(done), std::move(r));
}

void RedisBroker::release_held(NodeChannel& c, bool all) {
  if (c.held.empty()) {
    return;
  }
  std::vector<NodeChannel::HeldRead> keep;
  for (auto& h : c.held) {
    if (all || h.top <= c.last) {
      reply<Result<HistoryResult>>(h.loop, std::move(h.done), std::move(h.result));
    } else {
      keep.push_back(std::move(h));
    }
  }
  c.held.swap(keep);
}

// ---------------------------------------------------------------------------------------------
// Connections

void RedisBroker::on_ready(RedisConnection& conn) {
  update_ready();
  Shard& shard = shard_of(conn);
  (&conn == shard.cmd.get() ? shard.cmd_failure : shard.sub_failure).clear();

  if (&conn == shard.cmd.get()) {
    spdlog::info("redis broker: connected to {}", shard.url.address());
    // Loaded first, so that EVALSHA rarely meets NOSCRIPT (whose EVAL retry could let a later
    // publish of this node overtake an earlier one).
    for (const auto* script :
         {&redis_scripts::publish(), &redis_scripts::read(), &redis_scripts::presence_add(),
          &redis_scripts::presence_remove(), &redis_scripts::presence_read(),
          &redis_scripts::presence_refresh(), &redis_scripts::node_announce(),
          &redis_scripts::user_admit(), &redis_scripts::user_refresh(),
          &redis_scripts::hold_acquire(), &redis_scripts::hold_release(),
          &redis_scripts::holds_expired(), &redis_scripts::hold_end(),
          &redis_scripts::hold_refresh()}) {
      conn.command({"SCRIPT", "LOAD", (cluster() ? redis_scripts::for_cluster(*script) : *script).text},
                   nullptr);
    }
    run_when_ready(shard, true);  // calls redirected here before it was up, after the scripts
    for (auto& [name, c] : channels_) {
      if (c.state == NodeChannel::State::kPositioning && &shard_for(name) == &shard) {
        read_position(name);  // one that failed while Redis was away
      }
    }
    refresh_presence();  // puts back what a restarted Redis lost
    if (&shard == &home()) {
      announce_node();
    }
    return;
  }
  if (&shard == &home()) {
    subscribe_node_channels();
  }
  // The subscriber: every channel of this shard that the node holds is subscribed again.
  for (auto& [name, c] : channels_) {
    if (c.state == NodeChannel::State::kUnsubscribed && &shard_for(name) == &shard) {
      c.state = NodeChannel::State::kSubscribing;
      send_subscribe(name, true);
    }
  }
}

void RedisBroker::on_down(RedisConnection& conn, const std::string& why) {
  bool was_ready = ready_.load(std::memory_order_relaxed);
  update_ready();
  Shard& shard = shard_of(conn);
  bool commands = &conn == shard.cmd.get();
  std::string& logged = commands ? shard.cmd_failure : shard.sub_failure;
  if (was_ready) {
    spdlog::warn("redis broker: {} {} ({}): publishes fail until it is back", shard.url.address(),
                 why, commands ? "commands" : "subscriber");
  } else if (why != logged && why != "stopped") {
    // Never connected yet, or failing again another way: a refused certificate, a wrong
    // password or a closed port is said once, then retried quietly with backoff.
    spdlog::warn("redis broker: {} ({}): {}; retrying (the node is not ready until it answers)",
                 shard.url.address(), commands ? "commands" : "subscriber", why);
  }
  logged = why;
  if (&conn != shard.sub.get()) {
    run_when_ready(shard, false);  // calls redirected to a new master that did not come up
    return;
  }
  // Whatever this Redis sent while we were away is gone: every stream of its channels is broken.
  shard.unconfirmed.clear();
  shard.sent_order.clear();
  std::vector<std::string> unused;
  for (auto& [name, c] : channels_) {
    if (c.state == NodeChannel::State::kUnsubscribed || &shard_for(name) != &shard) {
      continue;
    }
    for (auto& [loop, done] : c.waiting) {
      --c.subscribed[static_cast<size_t>(loop)];
      reply<Result<Ok>>(loop, std::move(done), Error{"redis: " + why});
    }
    c.waiting.clear();
    bool live = c.state == NodeChannel::State::kLive;
    flush_outbox(name, c);
    for (size_t i = 0; live && i < c.subscribed.size(); ++i) {
      if (c.subscribed[i] != 0 && sinks_[i] != nullptr) {
        BrokerSink* sink = sinks_[i];
        loops_[i]->post([sink, name = name] { sink->on_lost(name); });
      }
    }
    release_held(c, true);
    c.early.clear();
    c.early_epochs.clear();
    c.epoch.clear();
    c.last = 0;
    c.moved = false;
    c.state = NodeChannel::State::kUnsubscribed;
    bool any = false;
    for (uint32_t n : c.subscribed) {
      any = any || n != 0;
    }
    if (!any) {
      unused.push_back(name);
    }
  }
  for (const std::string& name : unused) {
    channels_.erase(name);
  }
}

}  // namespace herald::broker
