// RedisBroker, part 5: a Redis Cluster whose topology changes while the node runs. At start the
// node knows the masters and slots that CLUSTER SLOTS gave (redis_cluster.h); afterwards Redis
// itself says what changed, and the node follows:
//  - a command answered MOVED <slot> <host:port>: the slot map takes the new master and the call
//    is sent there (ASK: that one call, after ASKING). A master the node did not know (added
//    with `redis-cli --cluster add-node`, or promoted by a failover) gets its two connections
//    then, with the seed's credentials and TLS; the call waits for its command connection;
//  - a live sharded subscription whose slot moved away: Redis sends a `sunsubscribe` push that
//    no SUNSUBSCRIBE of ours asked for. The node SSUBSCRIBEs again; the old master answers MOVED
//    (it knows where the slot went), which the node follows like a command's; once the new
//    master confirms, the position read also fetches what was published since the last
//    publication delivered (`NodeChannel::moved`), so the stream goes on without a break: the
//    clients see nothing. When history no longer holds the gap (or the epoch changed), the loops
//    get on_lost and the clients recover from their positions, as after any broken stream;
//  - a master that went down and whose replica Redis promoted (a failover): nobody answers
//    MOVED for a master that is gone, so while a master with slots is down the node asks another
//    for CLUSTER SLOTS every second, and once every slot has a master again it takes the new
//    map: its broken streams subscribe again where their slots are now (the loops had on_lost,
//    the clients recover from their positions) and its presence is put back there.
// Thread: the Redis loop.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "broker/redis_broker.h"
#include "broker/redis_cluster.h"

namespace herald::broker {

uint32_t RedisBroker::add_shard(const RedisUrl& url) {
  RedisConnection::Listener* self = this;  // a private base: converted here, inside the class
  auto shard = std::make_unique<Shard>();
  shard->url = url;
  RedisConnection::Options co;
  co.url = url;
  co.command_timeout_ms = options_.command_timeout_ms;
  co.connect_timeout_ms = options_.command_timeout_ms;
  co.tls = options_.tls;
  co.metrics = &metrics_;
  shard->cmd = std::make_unique<RedisConnection>(*io_loop_, co, self);
  co.subscriber = true;
  shard->sub = std::make_unique<RedisConnection>(*io_loop_, co, self);
  shards_.push_back(std::move(shard));
  return static_cast<uint32_t>(shards_.size() - 1);
}

uint32_t RedisBroker::master_at(std::string_view host, uint16_t port) {
  uint32_t index = 0;
  while (index < shards_.size() &&
         !(shards_[index]->url.host == host && shards_[index]->url.port == port)) {
    ++index;
  }
  if (index == shards_.size()) {
    RedisUrl url = shards_.front()->url;  // the seed's user, password and TLS
    url.host.assign(host);
    url.port = port;
    url.db = 0;
    index = add_shard(url);
    spdlog::info(
        "redis cluster: master {} was not known to this node (added after the start): "
        "connecting to it",
        url.address());
    shards_[index]->cmd->start();
    shards_[index]->sub->start();
  }
  return index;
}

std::optional<uint32_t> RedisBroker::follow_redirect(std::string_view error) {
  bool moved = error.rfind("MOVED ", 0) == 0;
  if (!cluster() || (!moved && error.rfind("ASK ", 0) != 0)) {
    return std::nullopt;
  }
  // "MOVED <slot> <host>:<port>" (an IPv6 host may come in brackets)
  std::string_view rest = error.substr(moved ? 6 : 4);
  size_t space = rest.find(' ');
  uint32_t slot = kClusterSlots;
  std::from_chars(rest.data(), rest.data() + std::min(space, rest.size()), slot);
  std::string_view where = space == std::string_view::npos ? "" : rest.substr(space + 1);
  size_t colon = where.rfind(':');
  uint32_t port = 0;
  if (colon == std::string_view::npos || slot >= kClusterSlots ||
      std::from_chars(where.data() + colon + 1, where.data() + where.size(), port).ec !=
          std::errc() ||
      port == 0 || port > 65535) {
    spdlog::warn("redis cluster: a redirection this node cannot follow: {}", error);
    return std::nullopt;
  }
  std::string_view host = where.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = shards_.front()->url.host;  // Redis says "" for "the address you reached me on"
  }
  uint32_t index = master_at(host, static_cast<uint16_t>(port));
  if (moved && slots_[slot] != index) {
    bool was_down = !shards_[slots_[slot]]->ready();
    slots_[slot] = index;
    if (was_down) {
      update_ready();  // the last slot of a master that is gone may have left it
    }
  }
  return index;
}

void RedisBroker::run_when_ready(Shard& shard, bool ok) {
  std::vector<std::function<void(bool)>> calls;
  calls.swap(shard.when_ready);
  for (auto& call : calls) {
    call(ok);
  }
}

void RedisBroker::on_slot_moved(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.state == NodeChannel::State::kUnsubscribed) {
    return;
  }
  NodeChannel& c = it->second;
  spdlog::info("redis cluster: the slot of {} moved to another master: subscribing there", name);
  flush_outbox(name, c);  // what came before the move keeps its place
  if (c.state == NodeChannel::State::kLive) {
    c.moved = true;  // epoch and last stay: the new position read catches up from there
  } else {
    c.moved = false;  // it was being positioned: the read after the new subscribe does it
    c.epoch.clear();
    c.last = 0;
  }
  ++c.generation;  // a position read under way answers for the old subscription
  c.early.clear();
  c.early_epochs.clear();
  c.state = NodeChannel::State::kSubscribing;
  send_subscribe(name, true);  // to the master we believe in; it answers MOVED if it moved
}

bool RedisBroker::redirect_subscribe(const std::string& name, std::string_view error) {
  auto to = follow_redirect(error);
  if (!to) {
    return false;
  }
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.state != NodeChannel::State::kSubscribing) {
    return true;  // nobody wants it any more
  }
  if (shards_[*to]->sub->ready()) {
    send_subscribe(name, true);
  } else {
    it->second.state = NodeChannel::State::kUnsubscribed;  // on_ready of the new master's sub
  }
  return true;
}

// A master that is down may never come back (killed, its machine gone) while Redis promotes
// one of its replicas: no MOVED can tell the node then, since nobody answers for the old master.
// So while a master that serves slots is down, the node asks a master that is up for CLUSTER
// SLOTS every kTopologyCheckMs, and takes the new map once every slot has a master again.
void RedisBroker::check_topology() {
  bool owner_down = false;
  std::vector<bool> owns(shards_.size(), false);
  for (uint32_t owner : slots_) {
    owns[owner] = true;
  }
  Shard* ask = nullptr;
  for (size_t i = 0; i < shards_.size(); ++i) {
    owner_down = owner_down || (owns[i] && !shards_[i]->cmd->ready());
    if (ask == nullptr && shards_[i]->cmd->ready()) {
      ask = shards_[i].get();
    }
  }
  if (!owner_down || ask == nullptr || topology_asked_) {
    return;
  }
  topology_asked_ = true;
  ask->cmd->command({"CLUSTER", "SLOTS"}, [this, seed = ask->url](Result<resp::Reply> r) {
    topology_asked_ = false;
    if (!r.ok()) {
      return;
    }
    auto map = parse_cluster_slots(*r, seed);
    if (!map.ok()) {
      return;  // a failover under way: some slots have no master yet; asked again later
    }
    take_cluster_map(*map);
  });
}

void RedisBroker::take_cluster_map(const ClusterMap& map) {
  std::vector<uint32_t> index_of(map.masters.size());
  for (size_t m = 0; m < map.masters.size(); ++m) {
    index_of[m] = master_at(map.masters[m].host, map.masters[m].port);
  }
  size_t moved = 0;
  for (uint32_t slot = 0; slot < kClusterSlots; ++slot) {
    uint32_t now = index_of[map.slots[slot]];
    if (slots_[slot] != now) {
      slots_[slot] = now;
      ++moved;
    }
  }
  if (moved == 0) {
    return;
  }
  spdlog::warn("redis cluster: {} slot(s) of a master that is down are served by another "
               "master now (a failover): following them", moved);
  update_ready();
  uint32_t new_home = slots_[cluster_slot(all_nodes_channel())];
  if (new_home != home_) {
    home_ = new_home;
    if (home().sub->ready()) {
      subscribe_node_channels();  // else when its subscriber connects (on_ready)
    }
  }
  for (auto& [name, c] : channels_) {
    Shard& shard = shard_for(name);
    if (c.state == NodeChannel::State::kUnsubscribed && shard.sub->ready()) {
      c.state = NodeChannel::State::kSubscribing;
      send_subscribe(name, true);
    } else if (c.state == NodeChannel::State::kPositioning && shard.cmd->ready()) {
      read_position(name);
    }
  }
  refresh_presence();  // puts back what the promoted replica had not received yet
}

}  // namespace herald::broker
