#pragma once
// FrameCache: a batch of a channel's publications framed once per loop for Pusher clients, so
// every Pusher subscriber of the loop queues the same bytes (encode once, as the Herald
// protocol's PushEncoder). Each publication is its own WebSocket message (pusher-js reads one
// event per message), so a batch becomes one Publication per event; each remembers the socket
// it must not reach (the sender of a client event, the socket_id of a REST event). A one-entry
// cache: a fan-out delivers one batch to its members back to back.
// Owned by the loop's Endpoint. Thread: the loop's own.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/broker.h"
#include "net/buffer.h"
#include "pusher/json_object.h"
#include "transport/topics.h"

namespace herald::pusher {

struct PusherFrame {
  std::shared_ptr<transport::Publication> frame;
  std::string except_socket;  // the socket id that must not receive it ("" = none)
  // The frame's text as a JSON string, for pusher-js's HTTP fallbacks: built on first need,
  // once per loop (XhrSession::deliver).
  mutable net::SharedBuffer quoted;
};

class FrameCache {
 public:
  using Records = std::span<const std::shared_ptr<const broker::PublicationRecord>>;

  // pusher_channel: the channel's Pusher name (the Herald name minus the app's namespace). The
  // hub hands every member of a loop the same batch, or for a single publication the same
  // record: either pointer is the cache key, so every subscriber of the loop after the first
  // gets the frames already built.
  const std::vector<PusherFrame>& frames(
      std::string_view pusher_channel,
      const std::shared_ptr<const broker::PublicationBatch>& batch);
  const std::vector<PusherFrame>& frames(
      std::string_view pusher_channel, const std::shared_ptr<const broker::PublicationRecord>& pub);
  // The frames() just asked for, with "herald_position" in each, for the subscriptions that asked
  // for positions (the history extension); built on first use, cached with them.
  const std::vector<PusherFrame>& positioned(std::string_view pusher_channel,
                                             const std::string& epoch, Records records);
  // One publication framed for one client (a cache- channel's replay); not cached. With epoch,
  // it carries "herald_position" (the history extension).
  std::string frame_one(std::string_view pusher_channel, const broker::PublicationRecord& rec,
                        const std::string* epoch = nullptr);

 private:
  bool cached(const void* key, std::string_view pusher_channel) const {
    return key_ == key && channel_ == pusher_channel;
  }
  void build(std::string_view pusher_channel, Records records);

  const void* key_ = nullptr;
  std::shared_ptr<const void> ref_;  // keeps key_'s address from being reused while cached
  std::string channel_;
  std::vector<PusherFrame> frames_;
  bool positioned_valid_ = false;  // positioned_ is for the cached records
  std::vector<PusherFrame> positioned_;
  JsonObject reader_;
};

// A publisher's client id is a Pusher socket id ("<digits>.<digits>") when a Pusher client or a
// REST call with socket_id published it.
bool is_socket_id(std::string_view s);

// ,"herald_position":{"offset":N,"epoch":E} (the history extension; docs/PUSHER.md).
void append_position(std::string& out, uint64_t offset, std::string_view epoch);

}  // namespace herald::pusher
