#include "server/cluster.h"

#include <charconv>
#include <spdlog/spdlog.h>

#include "net/timer_wheel.h"
#include "server/loop_context.h"

namespace herald::server {

// One question waiting for its answers on the asking loop. Thread: that loop.
struct Cluster::Ask final : public net::Timer {
  Ask(Cluster& c, int at_loop, uint64_t number) : cluster(c), loop(at_loop), seq(number) {}
  void on_timer() override { cluster.finish(loop, seq); }

  Cluster& cluster;
  int loop;
  uint64_t seq;
  size_t expected = 0;
  std::vector<Reply> replies;
  std::function<void(std::vector<Reply>)> done;
};

struct Cluster::LoopAsks {
  uint64_t next = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Ask>> waiting;
};

Cluster::Cluster(ServerCore& core) : core_(core) {
  for (size_t i = 0; i < core_.loops.size(); ++i) {
    asks_.push_back(std::make_unique<LoopAsks>());
  }
  core_.broker->set_node_sink(this);
}

// The broker is gone by now (declared after the cluster in ServerCore), and its thread was
// stopped before it went: nothing calls on_node_message any more.
Cluster::~Cluster() = default;

void Cluster::put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

bool Cluster::take(std::string_view& in, std::string_view& field) {
  size_t colon = in.find(':');
  size_t len = 0;
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  auto [end, ec] = std::from_chars(in.data(), in.data() + colon, len);
  if (ec != std::errc() || end != in.data() + colon || len > in.size() - colon - 1) {
    return false;
  }
  field = in.substr(colon + 1, len);
  in.remove_prefix(colon + 1 + len);
  return true;
}

size_t Cluster::node_count() const {
  std::vector<std::string> nodes = core_.broker->nodes();
  std::string_view me = core_.broker->node_id();
  bool listed = false;
  for (const std::string& n : nodes) {
    listed = listed || n == me;
  }
  return nodes.size() + (listed ? 0 : 1);
}

std::string_view Cluster::node_id() const {
  return core_.broker->node_id();
}

void Cluster::ask_all(LoopContext& origin, std::string_view topic, std::string body,
                      std::function<void(std::vector<Reply>)> done, uint32_t timeout_ms) {
  size_t others = node_count() - 1;
  if (others == 0) {
    done({});
    return;
  }
  int loop = origin.loop.index();
  LoopAsks& mine = *asks_[static_cast<size_t>(loop)];
  uint64_t seq = mine.next++;
  auto ask = std::make_unique<Ask>(*this, loop, seq);
  ask->expected = others;
  ask->done = std::move(done);
  origin.loop.timers().arm(*ask, origin.loop.now_ms(), timeout_ms);
  mine.waiting.emplace(seq, std::move(ask));
  std::string message;
  put(message, "Q");
  put(message, topic);
  put(message, std::to_string(loop) + "." + std::to_string(seq));
  put(message, body);
  core_.broker->send_to_node("", std::move(message));
}

void Cluster::ask_one(LoopContext& origin, std::string_view node, std::string_view topic,
                      std::string body, std::function<void(std::optional<std::string>)> done,
                      uint32_t timeout_ms) {
  int loop = origin.loop.index();
  LoopAsks& mine = *asks_[static_cast<size_t>(loop)];
  uint64_t seq = mine.next++;
  auto ask = std::make_unique<Ask>(*this, loop, seq);
  ask->expected = 1;
  ask->done = [done = std::move(done)](std::vector<Reply> replies) {
    done(replies.empty() ? std::nullopt : std::optional<std::string>(std::move(replies[0].body)));
  };
  origin.loop.timers().arm(*ask, origin.loop.now_ms(), timeout_ms);
  mine.waiting.emplace(seq, std::move(ask));
  std::string message;
  put(message, "Q");
  put(message, topic);
  put(message, std::to_string(loop) + "." + std::to_string(seq));
  put(message, body);
  core_.broker->send_to_node(node, std::move(message));
}

void Cluster::finish(int loop, uint64_t seq) {
  LoopAsks& mine = *asks_[static_cast<size_t>(loop)];
  auto it = mine.waiting.find(seq);
  if (it == mine.waiting.end()) {
    return;
  }
  std::unique_ptr<Ask> ask = std::move(it->second);
  mine.waiting.erase(it);
  ask->cancel();
  ask->done(std::move(ask->replies));
}

// Thread: the broker's. Questions run on loop 0; answers go to the asking loop.
void Cluster::on_node_message(std::string_view from, std::string_view payload) {
  std::string_view kind, topic, id, body;
  if (!take(payload, kind) || !take(payload, topic) || !take(payload, id) ||
      !take(payload, body)) {
    spdlog::warn("cluster: a malformed message from node {} was dropped", from);
    return;
  }
  if (kind == "A") {
    on_answer(id, from, body);
    return;
  }
  auto h = handlers_.find(std::string(topic));
  if (kind != "Q" || h == handlers_.end()) {
    return;  // a newer node's question: it times out on the asker's side
  }
  LoopContext& loop0 = *core_.loops.front();
  broker::Broker* broker = core_.broker.get();
  loop0.loop.post([&loop0, broker, handler = &h->second, from = std::string(from),
                   topic = std::string(topic), id = std::string(id), body = std::string(body)] {
    (*handler)(loop0, from, body, [broker, from, topic, id](std::string answer) {
      std::string message;
      put(message, "A");
      put(message, topic);
      put(message, id);
      put(message, answer);
      broker->send_to_node(from, std::move(message));
    });
  });
}

void Cluster::on_answer(std::string_view id, std::string_view from, std::string_view body) {
  size_t dot = id.find('.');
  int loop = -1;
  uint64_t seq = 0;
  if (dot == std::string_view::npos ||
      std::from_chars(id.data(), id.data() + dot, loop).ec != std::errc() ||
      std::from_chars(id.data() + dot + 1, id.data() + id.size(), seq).ec != std::errc() ||
      loop < 0 || static_cast<size_t>(loop) >= core_.loops.size()) {
    return;
  }
  core_.loops[static_cast<size_t>(loop)]->loop.post(
      [this, loop, seq, reply = Reply{std::string(from), std::string(body)}]() mutable {
        LoopAsks& mine = *asks_[static_cast<size_t>(loop)];
        auto it = mine.waiting.find(seq);
        if (it == mine.waiting.end()) {
          return;  // too late: the question timed out
        }
        it->second->replies.push_back(std::move(reply));
        if (it->second->replies.size() >= it->second->expected) {
          finish(loop, seq);
        }
      });
}

}  // namespace herald::server
