#pragma once
// Sessions of the HTTP transports (an SSE stream, a long-poll session): a client whose commands
// arrive in separate HTTP requests, on any connection and so on any loop, that name the session
// by its id. The id is "<loop>-<32 hex digits>" from the kernel's random source, prefixed with
// "<node>." when several nodes share Redis: it says which node and loop hold the session, and
// 128 random bits make it unguessable, so only the client that was told it (in its connect
// result) can use it. Each loop keeps a registry of its own sessions; a request that reaches
// another node is relayed to the holder (LoopServices::relay_session), so no sticky sessions
// are needed. Thread: owning loop only (the functions on ids are pure).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/string_hash.h"
#include "transport/transport.h"

namespace herald::transport {

// A Transport whose client's commands come in through requests naming its id.
class EmulatedSession : public Transport {
 public:
  std::string_view session_id() const override { return session_id_; }

 protected:
  explicit EmulatedSession(std::string id) : session_id_(std::move(id)) {}
  ~EmulatedSession() = default;

 private:
  std::string session_id_;
};

// A new session id for a session held by loop `loop_index` of node `node` ("": one node).
std::string new_session_id(std::string_view node, int loop_index);
// The loop named by a session id, or -1 when the id is malformed or names no loop below
// loop_count.
int session_loop(std::string_view id, int loop_count);
// The node named by a session id ("" for an id without one).
std::string_view session_node(std::string_view id);

// A request for a session, run on the loop that holds it (http_transports.cpp): commands for
// it, a poll, or a long-poll client leaving. Relayed between nodes as it is.
struct SessionRequest {
  enum class Op : uint8_t { kCommands, kPoll, kLeave };
  Op op = Op::kCommands;
  bool poll = false;  // the session is a long-poll one (else an SSE stream)
  std::string session;
  uint64_t cursor = 0;  // kPoll
  std::string body;     // kCommands
};

class SessionRegistry {
 public:
  void add(EmulatedSession* s) { sessions_[std::string(s->session_id())] = s; }
  void remove(std::string_view id) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
      sessions_.erase(it);
    }
  }
  EmulatedSession* find(std::string_view id) const {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
  }
  size_t size() const { return sessions_.size(); }

 private:
  std::unordered_map<std::string, EmulatedSession*, StringHash, std::equal_to<>> sessions_;
};

}  // namespace herald::transport
