#pragma once
// Hub: one event loop's view of the channels: which of its connections are subscribed to what,
// fan-out of each publication to them, and recovery of what a reconnecting client missed. It
// talks to the rest of the server only through the Broker (broker.h), so it works the same over
// the in-process broker and over Redis.
//
// Recovery without gaps or duplicates: a subscriber first joins the channel's live stream in a
// *recovering* state, in which live publications are buffered instead of sent; then history after
// the client's offset is read. The reply carries the history; the buffer is then replayed,
// skipping every offset the history already covered. Because the broker delivers every publication
// after the subscription either in the history read or live (or both), the client sees each
// offset exactly once, in order.
// Thread: owning loop only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "broker/broker.h"

namespace herald::hub {

// The broker's vocabulary, which the hub speaks throughout (the hub is the layer above it).
using broker::Broker;
using broker::BrokerSink;
using broker::ClientInfo;
using broker::HistoryQuery;
using broker::HistoryResult;
using broker::PublicationBatch;
using broker::PublicationRecord;
using broker::PublishRequest;
using broker::StreamTop;

struct Position {
  uint64_t offset = 0;
  std::string epoch;
};

// What a subscribe produced for the client.
struct SubscribeReply {
  StreamTop top;                                // the channel's position when history was read
  bool recovered = false;                       // true: `publications` is exactly what was missed
  std::vector<PublicationRecord> publications;  // missed ones, oldest first (only if recovered)
};

// A connection as the hub sees it.
class ChannelMember {
 public:
  virtual ~ChannelMember() = default;
  // A live publication of a subscribed channel, in offset order. `pub` is shared by every member
  // of the loop: encode it once (see LivePublication::cache).
  virtual void on_channel_publication(std::string_view channel, const std::string& epoch,
                                      const std::shared_ptr<const PublicationRecord>& pub) = 0;
  // Several consecutive publications at once (shared by every member of the loop, like pub
  // above); by default one by one. A member that can send them together overrides this.
  virtual void on_channel_publications(std::string_view channel, const std::string& epoch,
                                       const std::shared_ptr<const PublicationBatch>& batch) {
    for (const auto& pub : *batch) {
      on_channel_publication(channel, epoch, pub);
    }
  }
  // Someone joined / left the channel's presence (namespaces with join/leave pushes only).
  virtual void on_channel_join(std::string_view /*channel*/, const ClientInfo& /*who*/) {}
  virtual void on_channel_leave(std::string_view /*channel*/, const ClientInfo& /*who*/) {}
  // The broker lost the channel's live stream: publications may have been missed. The member is
  // still subscribed; it should make its client recover (resubscribe from its position). It may
  // unsubscribe itself from here.
  virtual void on_channel_lost(std::string_view /*channel*/) {}
};

class Hub final : public BrokerSink {
 public:
  using SubscribeCallback = std::function<void(Result<SubscribeReply>)>;

  Hub(int loop_index, Broker& broker);
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Subscribes m to channel. With `since`, the reply holds the publications after since.offset
  // (recovered = true) or says they are gone (recovered = false: the client must reload). `done`
  // runs on this loop before any live publication of the channel reaches m; it is not called if m
  // unsubscribes (or leaves) first. Subscribing twice to one channel is the caller's error to
  // report; the hub ignores the second call.
  void subscribe(ChannelMember* m, std::string_view channel, std::optional<Position> since,
                 SubscribeCallback done);
  void unsubscribe(ChannelMember* m, std::string_view channel);
  // m is going away: leaves every channel. Pending subscribe callbacks for m are dropped.
  void leave_all(ChannelMember* m);
  bool is_subscribed(ChannelMember* m, std::string_view channel) const;

  void publish(std::string_view channel, PublishRequest request, Broker::PublishCallback done);
  // The channel's position and the publications `query` selects (see HistoryQuery).
  void history(std::string_view channel, const HistoryQuery& query, Broker::HistoryCallback done);

  // Presence of a connection in channel (announce: send join/leave pushes; limit: at most this
  // many clients, 0 = no limit; done(false): the channel is full).
  void presence_add(std::string_view channel, ClientInfo who, bool announce, size_t limit,
                    Broker::AddedCallback done) {
    broker_.presence_add(loop_, channel, std::move(who), announce, limit, std::move(done));
  }
  void presence_remove(std::string_view channel, std::string_view client, bool announce) {
    broker_.presence_remove(loop_, channel, client, announce);
  }
  void presence(std::string_view channel, Broker::PresenceCallback done) {
    broker_.presence(loop_, channel, std::move(done));
  }
  void presence_stats(std::string_view channel, Broker::PresenceStatsCallback done) {
    broker_.presence_stats(loop_, channel, std::move(done));
  }
  // Holds over every node (Broker::hold): what the Pusher webhooks decide once per cluster.
  void hold(std::string_view key, Broker::HoldCallback done) {
    broker_.hold(loop_, key, std::move(done));
  }
  void release(std::string_view key, Broker::HoldCallback done) {
    broker_.release(loop_, key, std::move(done));
  }
  // The channels m is subscribed to (or subscribing), and how many they are.
  std::vector<std::string> channels_of(ChannelMember* m) const;
  size_t subscription_count(ChannelMember* m) const {
    auto it = member_channels_.find(m);
    return it == member_channels_.end() ? 0 : it->second.size();
  }

  // BrokerSink
  void on_publications(std::string_view channel, const std::string& epoch,
                       const std::shared_ptr<const PublicationBatch>& batch) override;
  void on_join(std::string_view channel, const ClientInfo& who) override;
  void on_leave(std::string_view channel, const ClientInfo& who) override;
  void on_lost(std::string_view channel) override;

  // Called once per batch handed to this loop's live members, with how many they were: the
  // server's publish-to-delivery histogram (one clock read per batch, not per delivery).
  std::function<void(const PublicationBatch& batch, size_t members)> on_delivered;

  size_t channel_count() const { return channels_.size(); }
  // fn(name, established members) for every channel this loop holds.
  template <typename Fn>
  void for_each_channel(Fn fn) const {
    for (const auto& [name, lc] : channels_) {
      fn(name, lc.members.size());
    }
  }

 private:
  struct Recovering {
    ChannelMember* member;
    uint64_t ticket;  // identifies this subscribe attempt in the callbacks
    std::optional<Position> since;
    SubscribeCallback done;
    std::vector<std::shared_ptr<const PublicationRecord>> buffered;
    std::string buffered_epoch;
  };
  struct LocalChannel {
    bool broker_ready = false;  // broker.subscribe() has completed
    std::vector<ChannelMember*> members;
    std::vector<Recovering> recovering;
  };

  void start_recovery(const std::string& channel, uint64_t ticket);
  void finish_recovery(const std::string& channel, uint64_t ticket, Result<HistoryResult> r);
  // The broker could not subscribe: every member still waiting gets the error.
  void fail_subscribe(const std::string& channel, const std::string& error);
  void remove_member(const std::string& channel, LocalChannel& lc, ChannelMember* m);
  void release_if_empty(const std::string& channel);

  int loop_;
  Broker& broker_;
  uint64_t next_ticket_ = 1;
  std::unordered_map<std::string, LocalChannel, StringHash, std::equal_to<>> channels_;
  // Per member, its channels (for leave_all and is_subscribed).
  std::unordered_map<ChannelMember*, std::vector<std::string>> member_channels_;
};

}  // namespace herald::hub
