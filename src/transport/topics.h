#pragma once
// Topics: the per-loop publish/subscribe index behind WebSocket::subscribe/publish, and the
// Publication that carries one published message to every loop (and the Herald protocol's pushes
// to every subscriber of a loop). A publication is framed once (plain) and, on first need, once
// per deflate window size, once as a TCP line and once per SSE framing; every subscriber's output queue then holds a
// reference to those bytes. Thread: TopicIndex belongs to one loop; a Publication is
// immutable after creation except for its lazily built deflated frames (guarded by a mutex).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "herald/websocket.h"
#include "net/buffer.h"

namespace herald::ws {
class Deflater;
}

namespace herald::transport {

struct Publication;
struct Topic;

// A subscriber as the index sees it: something a publication can be delivered to, which
// remembers its own memberships so that leaving every topic on close is O(its topics).
class TopicSubscriber {
 public:
  struct Membership {
    Topic* topic;
    uint32_t slot;  // index in topic->subscribers
  };
  virtual ~TopicSubscriber() = default;
  // Must not unsubscribe or close synchronously: the index is being walked.
  virtual void deliver(const Publication& pub) = 0;
  std::vector<Membership>& memberships() { return memberships_; }

 private:
  std::vector<Membership> memberships_;
};

struct Publication {
  std::string topic;
  MessageType type = MessageType::kText;
  uint64_t exclude_id = 0;       // connection id that must not receive it (the publisher), 0 = none
  net::SharedBuffer plain;       // complete unmasked frame
  size_t header_size = 0;        // payload = plain->substr(header_size)

  std::string_view payload() const { return std::string_view(*plain).substr(header_size); }
  // The frame compressed for a client whose window allows window_bits; built once per size.
  net::SharedBuffer deflated(int window_bits, ws::Deflater& deflater) const;
  // The payload as newline-terminated text, for the raw TCP transport; built once.
  net::SharedBuffer line() const;
  // The payload as one Server-Sent Event ("data: " before each line, then a blank line), for
  // bidirectional SSE streams; built once.
  net::SharedBuffer sse() const;
  // One event per line, each with "id: <offset>:<epoch>" (offsets counting from first_offset):
  // the framing of unidirectional one-channel SSE streams. Built once: a publication's lines
  // have one position, so every call for it passes the same arguments.
  net::SharedBuffer sse_with_ids(std::string_view epoch, uint64_t first_offset) const;

  static std::shared_ptr<Publication> make(std::string_view topic, std::string_view data,
                                           MessageType type, uint64_t exclude_id);

 private:
  mutable std::mutex mutex_;
  mutable net::SharedBuffer deflated_[16];  // by window bits
  mutable net::SharedBuffer line_;
  mutable net::SharedBuffer sse_;
  mutable net::SharedBuffer sse_ids_;
};

// Appends one Server-Sent Event holding `lines` ('\n'-separated): "data: <line>\n" per line, then
// the blank line that ends the event.
void append_sse_data(std::string& out, std::string_view lines);

struct Topic {
  struct Subscriber {
    TopicSubscriber* subscriber;
    uint32_t membership;  // index in the subscriber's membership list
  };
  std::string name;
  std::vector<Subscriber> subscribers;
};

// Thread: owning loop only.
class TopicIndex {
 public:
  using Membership = TopicSubscriber::Membership;

  // Adds s to topic (no-op if already there).
  void subscribe(TopicSubscriber* s, std::string_view topic);
  void unsubscribe(TopicSubscriber* s, std::string_view topic);
  void unsubscribe_all(TopicSubscriber* s);
  // Delivers pub to every subscriber of its topic on this loop; returns how many.
  size_t deliver(const Publication& pub) const;
  // Subscribers of topic on this loop, or nullptr.
  const Topic* find(std::string_view topic) const;
  size_t topic_count() const { return topics_.size(); }

 private:
  void remove(TopicSubscriber* s, size_t index);

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<Topic>, Hash, std::equal_to<>> topics_;
};

}  // namespace herald::transport
