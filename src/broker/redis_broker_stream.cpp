// RedisBroker, part 2: the node's subscriptions and the fan-out stream of each channel (see the
// contract's argument in redis_broker.h). Thread: the Redis loop.
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

void RedisBroker::subscribe(int loop_index, std::string_view channel, SubscribeCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    do_subscribe(loop_index, std::move(name), std::move(done));
  });
}

void RedisBroker::do_subscribe(int loop, std::string name, SubscribeCallback done) {
  if (Shard& shard = shard_for(name); !shard.ready()) {
    reply<Result<Ok>>(loop, std::move(done), Error{unavailable(shard)});
    return;
  }
  auto [it, created] = channels_.try_emplace(name);
  NodeChannel& c = it->second;
  if (created) {
    c.subscribed.assign(loops_.size(), 0);
  }
  ++c.subscribed[static_cast<size_t>(loop)];
  if (c.state == NodeChannel::State::kLive) {
    reply<Result<Ok>>(loop, std::move(done), Ok{});
    return;
  }
  c.waiting.emplace_back(loop, std::move(done));
  if (c.state == NodeChannel::State::kUnsubscribed) {
    c.state = NodeChannel::State::kSubscribing;
    send_subscribe(name, true);
  }
}

void RedisBroker::unsubscribe(int loop_index, std::string_view channel) {
  io_loop_->post(
      [this, loop_index, name = std::string(channel)] { do_unsubscribe(loop_index, name); });
}

void RedisBroker::do_unsubscribe(int loop, const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    return;
  }
  NodeChannel& c = it->second;
  uint32_t& n = c.subscribed[static_cast<size_t>(loop)];
  if (n > 0) {
    --n;
  }
  for (uint32_t count : c.subscribed) {
    if (count != 0) {
      return;
    }
  }
  flush_outbox(name, c);
  release_held(c, true);
  if (c.state != NodeChannel::State::kUnsubscribed) {
    send_subscribe(name, false);
  }
  channels_.erase(it);
}

void RedisBroker::send_subscribe(const std::string& name, bool subscribe) {
  std::string fanout = fanout_channel(name);
  Shard& shard = shard_for(name);
  // A Redis Cluster's sharded pub/sub: the master of the channel's slot alone carries it.
  std::string_view verb = cluster() ? (subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE")
                                    : (subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
  if (shard.sub->send({verb, fanout})) {
    ++shard.unconfirmed[name];
    shard.sent_order.push_back(name);
  }
}

// The last SUBSCRIBE/UNSUBSCRIBE of the channel is confirmed: if we want it, it is now in
// force, and its position is read (after it, in Redis's order).
void RedisBroker::on_confirmed(const std::string& name) {
  auto it = channels_.find(name);
  if (it != channels_.end() && it->second.state == NodeChannel::State::kSubscribing) {
    it->second.state = NodeChannel::State::kPositioning;
    read_position(name);
  }
}

void RedisBroker::read_position(const std::string& name) {
  NodeChannel& c = channels_.at(name);
  uint64_t generation = ++c.generation;
  HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
  // A channel whose slot moved also reads what was published after its last delivery.
  std::string after = c.moved ? std::to_string(c.last) : "0";
  std::string limit = c.moved ? std::to_string(kMaxCatchUp) : "0";
  std::vector<std::string> args{key(name, 's'),
                                key(name, 'm'),
                                key(name, 'i'),
                                key(name, 'k'),
                                "0",
                                after,
                                "0",
                                limit,
                                std::to_string(h.ttl_ms),
                                new_epoch(),
                                std::to_string(meta_ttl(h))};
  eval(*shard_for(name).cmd, redis_scripts::read(), std::move(args), 4,
       [this, name, generation](Result<Reply> r) {
         on_position(name, generation,
                     r.ok() ? parse_history(r.value()) : Result<HistoryResult>(Error{r.error()}));
       });
}

void RedisBroker::on_position(const std::string& name, uint64_t generation,
                              Result<HistoryResult> r) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.generation != generation ||
      it->second.state != NodeChannel::State::kPositioning) {
    return;
  }
  NodeChannel& c = it->second;
  if (r.ok() && c.moved) {
    catch_up(name, c, std::move(*r));
    return;
  }
  if (!r.ok()) {
    c.moved = false;
    c.epoch.clear();
    c.last = 0;
    // The waiting subscribes fail (501); loops already live were told the stream is lost and
    // resubscribe; a new position is read when Redis is back (on_ready).
    for (auto& [loop, done] : c.waiting) {
      --c.subscribed[static_cast<size_t>(loop)];
      reply<Result<Ok>>(loop, std::move(done), Error{r.error()});
    }
    c.waiting.clear();
    for (uint32_t n : c.subscribed) {
      if (n != 0) {
        return;
      }
    }
    send_subscribe(name, false);
    channels_.erase(it);
    return;
  }
  c.epoch = r->top.epoch;
  c.last = r->top.offset;
  c.state = NodeChannel::State::kLive;
  go_live(name, c, {}, {});
}

// The waiting subscribes are answered, then the publications read from history (in offset order)
// and what pub/sub brought while positioning go through accept(), which drops what the position
// covers. Each accept() may end the stream (lose: the channel is no longer live) or let a sink
// unsubscribe: the channel is looked up again before each.
void RedisBroker::go_live(const std::string& name, NodeChannel& c,
                          std::vector<PublicationRecord> from_history,
                          const std::string& history_epoch) {
  for (auto& [loop, done] : c.waiting) {
    reply<Result<Ok>>(loop, std::move(done), Ok{});
  }
  c.waiting.clear();
  auto early = std::move(c.early);
  auto epochs = std::move(c.early_epochs);
  c.early.clear();
  c.early_epochs.clear();
  auto live = [&]() -> NodeChannel* {
    auto again = channels_.find(name);
    return again == channels_.end() || again->second.state != NodeChannel::State::kLive
               ? nullptr
               : &again->second;
  };
  for (PublicationRecord& p : from_history) {
    NodeChannel* now = live();
    if (now == nullptr) {
      return;
    }
    accept(name, *now, std::make_shared<PublicationRecord>(std::move(p)), history_epoch);
  }
  for (size_t i = 0; i < early.size(); ++i) {
    NodeChannel* now = live();
    if (now == nullptr) {
      return;
    }
    accept(name, *now, std::move(early[i]), epochs[i]);
  }
}

void RedisBroker::on_push(RedisConnection& conn, resp::Reply& r) {
  Shard& shard = shard_of(conn);
  std::deque<std::string>& sent_order = shard.sent_order;
  if (r.is_error()) {
    // Redis refused a SUBSCRIBE or UNSUBSCRIBE (an ACL without the channel, say): replies come
    // in the order of the commands, so it is the oldest one still unanswered.
    if (!sent_order.empty()) {
      std::string name = std::move(sent_order.front());
      sent_order.pop_front();
      if (name.empty()) {
        spdlog::error("redis broker: subscribe to the node channels refused ({}): the server "
                      "API's questions to every node will not reach this one",
                      r.str);
        return;
      }
      bool last = count_confirmation(shard, name);
      // A Redis Cluster slot that moved: sent again to its master (an ASK is not followed for a
      // subscription: Redis serves shard channels from the old master until the move ends).
      if (r.str.rfind("MOVED ", 0) == 0 && (!last || redirect_subscribe(name, r.str))) {
        return;
      }
      spdlog::error("redis broker: (un)subscribe of {} refused: {}", name, r.str);
      refuse(name, r.str);
    }
    return;
  }
  if (!r.is_array() || r.elements.size() != 3) {
    return;
  }
  // Sharded pub/sub (Redis Cluster) names its pushes with an "s" in front.
  std::string_view kind = r.elements[0].str;
  if (kind == "sunsubscribe") {
    std::string_view moved = channel_of(r.elements[1].str);
    if (!moved.empty() && shard.unconfirmed.find(moved) == shard.unconfirmed.end()) {
      // No SUNSUBSCRIBE of ours is waiting: Redis dropped the subscription because the
      // channel's slot moved to another master (redis_broker_topology.cpp).
      on_slot_moved(std::string(moved));
      return;
    }
  }
  if (kind == "smessage" || kind == "ssubscribe" || kind == "sunsubscribe") {
    kind.remove_prefix(1);
  }
  if (kind == "message") {
    metrics_.pubsub_messages.add();
  }
  if (kind == "message" && on_node_push(r.elements[1].str, r.elements[2].str)) {
    return;
  }
  if (kind == "subscribe" && is_node_channel(r.elements[1].str)) {
    if (!sent_order.empty()) {
      sent_order.pop_front();  // its empty name
    }
    return;
  }
  std::string_view name = channel_of(r.elements[1].str);
  if (name.empty()) {
    return;
  }
  if (kind == "message") {
    on_message(name, r.elements[2].str);
    return;
  }
  if (kind == "subscribe" || kind == "unsubscribe") {
    if (!sent_order.empty()) {
      sent_order.pop_front();
    }
    std::string channel(name);
    if (count_confirmation(shard, channel)) {
      on_confirmed(channel);
    }
  }
}

bool RedisBroker::count_confirmation(Shard& shard, const std::string& name) {
  auto u = shard.unconfirmed.find(name);
  if (u == shard.unconfirmed.end()) {
    return false;
  }
  if (--u->second > 0) {
    return false;
  }
  shard.unconfirmed.erase(u);
  return true;
}

// A SUBSCRIBE Redis refused: the subscribes waiting for it fail, and the channel is left as if
// unsubscribed (the next subscribe tries again).
void RedisBroker::refuse(const std::string& name, const std::string& why) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.state != NodeChannel::State::kSubscribing) {
    return;
  }
  NodeChannel& c = it->second;
  for (auto& [loop, done] : c.waiting) {
    --c.subscribed[static_cast<size_t>(loop)];
    reply<Result<Ok>>(loop, std::move(done), Error{"redis refused to subscribe: " + why});
  }
  c.waiting.clear();
  c.state = NodeChannel::State::kUnsubscribed;
  for (uint32_t n : c.subscribed) {
    if (n != 0) {
      return;
    }
  }
  channels_.erase(it);
}

void RedisBroker::on_message(std::string_view name_view, std::string_view payload) {
  auto it = channels_.find(name_view);
  if (it == channels_.end() || payload.empty()) {
    return;
  }
  const std::string& name = it->first;
  NodeChannel& c = it->second;
  if (payload[0] == 'j' || payload[0] == 'l') {
    ClientInfo who = unpack_publisher(payload.substr(1));
    if (!who.client.empty()) {
      flush_outbox(name, c);  // joins and leaves keep their place among the publications
      announce(name, who, payload[0] == 'j');
    }
    return;
  }
  if (payload[0] != 'p') {
    return;
  }
  auto rec = std::make_shared<PublicationRecord>();
  std::string epoch;
  if (!parse_publication(payload, epoch, *rec)) {
    spdlog::warn("redis broker: a malformed publication on {} was dropped", name);
    return;
  }
  if (c.state != NodeChannel::State::kLive) {
    if (c.state != NodeChannel::State::kUnsubscribed) {
      c.early.push_back(std::move(rec));
      c.early_epochs.push_back(std::move(epoch));
    }
    return;
  }
  accept(name, c, std::move(rec), epoch);
}

// The position read after a moved slot's new SSUBSCRIBE: what was published since the last
// delivery is delivered from history, then what pub/sub brought meanwhile, and the stream goes on
// unbroken. History that no longer holds the gap, or a new epoch, is a broken stream (lose).
void RedisBroker::catch_up(const std::string& name, NodeChannel& c, HistoryResult r) {
  c.moved = false;
  c.state = NodeChannel::State::kLive;
  bool whole = r.top.epoch == c.epoch && r.top.offset >= c.last &&
               r.publications.size() == r.top.offset - c.last &&
               (r.publications.empty() || r.publications.front().offset == c.last + 1);
  if (!whole) {
    spdlog::info("redis cluster: {} moved with a gap history no longer holds: its subscribers "
                 "recover from their positions",
                 name);
    lose(name, c);
    return;
  }
  go_live(name, c, std::move(r.publications), r.top.epoch);
}

void RedisBroker::accept(const std::string& name, NodeChannel& c,
                         std::shared_ptr<const PublicationRecord> rec, const std::string& epoch) {
  if (c.epoch.empty() && c.last == 0) {
    c.epoch = epoch;  // the channel's first publication since we started following it
  }
  if (epoch != c.epoch || rec->offset > c.last + 1) {
    lose(name, c);
    return;
  }
  if (rec->offset <= c.last) {
    return;  // before our position, or already delivered
  }
  c.last = rec->offset;
  if (c.outbox.empty()) {
    to_flush_.push_back(name);
  }
  c.outbox_bytes += rec->data.size();
  c.outbox.push_back(std::move(rec));
  if (c.outbox.size() >= kMaxBatch || c.outbox_bytes >= kMaxBatchBytes) {
    flush_outbox(name, c);
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    io_loop_->run_soon([this] { flush_outboxes(); });
  }
}

// The stream broke: what came before the break is delivered, every subscribed loop hears
// on_lost, and the channel is positioned again (publications meanwhile wait in `early`).
void RedisBroker::lose(const std::string& name, NodeChannel& c) {
  flush_outbox(name, c);
  for (size_t i = 0; i < c.subscribed.size(); ++i) {
    if (c.subscribed[i] != 0 && sinks_[i] != nullptr) {
      BrokerSink* sink = sinks_[i];
      loops_[i]->post([sink, name] { sink->on_lost(name); });
    }
  }
  release_held(c, true);
  c.early.clear();
  c.early_epochs.clear();
  c.epoch.clear();
  c.last = 0;
  c.moved = false;
  c.state = NodeChannel::State::kPositioning;
  read_position(name);
}

void RedisBroker::flush_outbox(const std::string& name, NodeChannel& c) {
  if (!c.outbox.empty()) {
    auto batch = std::make_shared<const PublicationBatch>(std::move(c.outbox));
    c.outbox.clear();
    c.outbox_bytes = 0;
    for (size_t i = 0; i < c.subscribed.size(); ++i) {
      if (c.subscribed[i] == 0 || sinks_[i] == nullptr) {
        continue;
      }
      BrokerSink* sink = sinks_[i];
      loops_[i]->post(
          [sink, name, epoch = c.epoch, batch] { sink->on_publications(name, epoch, batch); });
    }
  }
  release_held(c, false);
}

void RedisBroker::flush_outboxes() {
  flush_scheduled_ = false;
  std::vector<std::string> names;
  names.swap(to_flush_);
  for (const std::string& name : names) {
    auto it = channels_.find(name);
    if (it != channels_.end()) {
      flush_outbox(name, it->second);
    }
  }
}

void RedisBroker::announce(std::string_view name, const ClientInfo& who, bool join) {
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    return;
  }
  for (size_t i = 0; i < it->second.subscribed.size(); ++i) {
    if (it->second.subscribed[i] == 0 || sinks_[i] == nullptr) {
      continue;
    }
    BrokerSink* sink = sinks_[i];
    loops_[i]->post([sink, channel = std::string(name), who, join] {
      if (join) {
        sink->on_join(channel, who);
      } else {
        sink->on_leave(channel, who);
      }
    });
  }
}

}  // namespace herald::broker
