// RedisBroker, part 4: the nodes of the cluster. Each node has a random id, renews its lease in
// the zset `<prefix>:nodes` every kNodeAnnounceMs (the script also drops the nodes whose lease
// ended and answers the live ones: Broker::nodes()), and SUBSCRIBEs to two channels of its own:
// `<prefix>:node:<id>` (messages to it) and `<prefix>:nodes` (messages to every node). A message
// is "<from id>\n<payload>"; what the payload means is the server's business (server/cluster.h).
// Thread: the Redis loop, apart from nodes() and send_to_node() (any thread).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/redis_broker.h"

namespace herald::broker {

std::string RedisBroker::node_channel(std::string_view node) const {
  return options_.prefix + ":node:" + std::string(node);
}

std::string RedisBroker::all_nodes_channel() const {
  return options_.prefix + ":nodes";
}

std::vector<std::string> RedisBroker::nodes() const {
  std::lock_guard lock(nodes_mutex_);
  return nodes_;
}

void RedisBroker::start_nodes() {
  node_timer_ = std::make_unique<Ticker>(*io_loop_, kNodeAnnounceMs, [this] { announce_node(); });
  node_timer_->arm();
}

void RedisBroker::stop_nodes() {
  node_timer_.reset();
  if (home().cmd->ready()) {
    // A node that stops cleanly leaves at once; one that dies is dropped when its lease ends.
    home().cmd->command({"ZREM", all_nodes_channel(), node_id_}, nullptr);
  }
}

// On the first shard. One command per channel, each with an empty name in sent_order, so that a refusal (an ACL
// without them) or a confirmation is matched to it and never to a channel's SUBSCRIBE.
void RedisBroker::subscribe_node_channels() {
  for (const std::string& channel : {node_channel(node_id_), all_nodes_channel()}) {
    if (home().sub->send({"SUBSCRIBE", channel})) {
      home().sent_order.emplace_back();
    }
  }
}

bool RedisBroker::is_node_channel(std::string_view channel) const {
  return channel == node_channel(node_id_) || channel == all_nodes_channel();
}

void RedisBroker::announce_node() {
  if (!home().cmd->ready()) {
    return;
  }
  std::vector<std::string> args{all_nodes_channel(), node_id_, std::to_string(kNodeLeaseMs)};
  eval(*home().cmd, redis_scripts::node_announce(), std::move(args), 1, [this](Result<resp::Reply> r) {
    if (!r.ok() || !r->is_array()) {
      return;
    }
    std::vector<std::string> live;
    for (const resp::Reply& e : r->elements) {
      live.push_back(e.str);
    }
    {
      std::lock_guard lock(nodes_mutex_);
      nodes_.swap(live);
    }
    if (!greeted_) {
      // The others read the zset only every kNodeAnnounceMs: an empty message tells them now,
      // so that a question asked a moment after this node started waits for its answer too.
      greeted_ = true;
      send_to_node("", {});
    }
  });
}

void RedisBroker::send_to_node(std::string_view to, std::string payload) {
  io_loop_->post([this, to = std::string(to), payload = std::move(payload)] {
    if (!home().cmd->ready()) {
      return;
    }
    std::string message = node_id_;
    message += '\n';
    message += payload;
    home().cmd->command({"PUBLISH", to.empty() ? all_nodes_channel() : node_channel(to), message},
                  nullptr);
  });
}

// A push on one of the node channels: true when it was one (handled or ignored).
bool RedisBroker::on_node_push(std::string_view channel, std::string_view payload) {
  if (!is_node_channel(channel)) {
    return false;
  }
  size_t nl = payload.find('\n');
  if (nl == std::string_view::npos || node_sink_ == nullptr) {
    return true;
  }
  std::string_view from = payload.substr(0, nl);
  if (from == node_id_) {
    return true;  // our own message to every node
  }
  {
    // A node we have not read in the zset yet is alive: it just spoke.
    std::lock_guard lock(nodes_mutex_);
    if (std::find(nodes_.begin(), nodes_.end(), from) == nodes_.end()) {
      nodes_.emplace_back(from);
    }
  }
  if (payload.size() == nl + 1) {
    return true;  // a new node's greeting
  }
  node_sink_->on_node_message(from, payload.substr(nl + 1));
  return true;
}

}  // namespace herald::broker
