#pragma once
// Cluster: the server's side of several nodes on Redis: questions to the other nodes and their
// answers, over the broker's node messages (Broker::send_to_node). The server API uses it to
// make `disconnect`, `channels` and `info` span every node, and the HTTP transports to run the
// commands of a session held by another node. Only exists with a broker that has other nodes.
//
// A question goes to every other node (ask_all) or to one (ask_one) with a topic and a body; a
// node answers through the handler registered for the topic, which runs on its loop 0 and
// answers once, from any loop. The asker gathers the answers on its own loop and gives up
// after `timeout_ms` (a node that died a moment ago is still listed until its lease ends), so a
// server API call never hangs on a dead node: it answers with what came.
//
// Wire format (payload of a node message): four length-prefixed fields ("<len>:<bytes>"):
// kind ("Q" or "A"), topic, question id ("<asking loop>.<sequence>"), body.
// Thread: ask_*() on a loop thread (answers come back on it); on_node_message on the broker's;
// handle() before the loops run.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker.h"

namespace herald::server {

class LoopContext;
struct ServerCore;

class Cluster final : public broker::NodeSink {
 public:
  using Answer = std::function<void(std::string body)>;  // call once; thread: any
  using Handler = std::function<void(LoopContext& loop0, std::string_view from,
                                     std::string_view body, Answer answer)>;
  struct Reply {
    std::string node;
    std::string body;
  };

  explicit Cluster(ServerCore& core);
  ~Cluster() override;

  void handle(std::string topic, Handler handler) { handlers_[std::move(topic)] = std::move(handler); }

  // Asks every other live node; done(answers) on origin's loop once all answered or timeout_ms
  // passed (then with the answers that came). With no other node, done runs at once (inside).
  void ask_all(LoopContext& origin, std::string_view topic, std::string body,
               std::function<void(std::vector<Reply>)> done, uint32_t timeout_ms = 2'000);
  // Asks one node; done(answer) on origin's loop, or done(nullopt) after timeout_ms.
  void ask_one(LoopContext& origin, std::string_view node, std::string_view topic,
               std::string body, std::function<void(std::optional<std::string>)> done,
               uint32_t timeout_ms);

  // The number of live nodes, this one included (1 before the first announcement).
  size_t node_count() const;
  std::string_view node_id() const;

  // broker::NodeSink
  void on_node_message(std::string_view from, std::string_view payload) override;

  // Length-prefixed fields, for the bodies of the topics too.
  static void put(std::string& out, std::string_view field);
  // Takes the next field off `in`; false when in is malformed or empty.
  static bool take(std::string_view& in, std::string_view& field);

 private:
  struct Ask;
  struct LoopAsks;
  void finish(int loop, uint64_t seq);
  void on_answer(std::string_view id, std::string_view from, std::string_view body);

  ServerCore& core_;
  std::unordered_map<std::string, Handler> handlers_;  // read-only once the loops run
  std::vector<std::unique_ptr<LoopAsks>> asks_;        // per loop, touched by that loop only
};

}  // namespace herald::server
