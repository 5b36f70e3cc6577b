#pragma once
// The per-connection side of the Herald protocol: Session (one connection's protocol state, a
// channel member of the loop's hub) and PushEncoder (a publication encoded once per loop, so
// every subscriber of the loop queues the same bytes). Thread: the loop's own.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "hub/hub.h"
#include "net/timer_wheel.h"
#include "protocol/errors.h"
#include "protocol/messages.h"
#include "server/limits.h"
#include "transport/topics.h"
#include "transport/transport.h"

namespace herald::server {

protocol::ClientInfoView view_of(const broker::ClientInfo& who);
// info: the view of rec.publisher (ignored when the publication has no publisher).
protocol::PublicationView view_of(const broker::PublicationRecord& rec, std::string_view epoch,
                                  const protocol::ClientInfoView* info);

// The views of a reply's publications (a subscribe's recovery, a history read), for the encoder.
// Each publication points at its publisher's view in `infos`, which is sized once and never
// grows: keep the object as it is while `pubs` is used.
struct PublicationViews {
  PublicationViews(const std::vector<broker::PublicationRecord>& records, std::string_view epoch);
  std::vector<protocol::ClientInfoView> infos;
  std::vector<protocol::PublicationView> pubs;
};

// Encodes a publication's message push once: the members of one fan-out, which come one after
// the other on the loop, all get the same frame. Owned by the loop's protocol handler.
class PushEncoder {
 public:
  const transport::Publication& encoded(std::string_view channel, const std::string& epoch,
                             const std::shared_ptr<const broker::PublicationRecord>& rec);
  // A batch of one channel's publications as one frame: their message pushes, '\n'-separated.
  const transport::Publication& encoded(std::string_view channel, const std::string& epoch,
                             const std::shared_ptr<const broker::PublicationBatch>& batch);

 private:
  const void* key_ = nullptr;       // the record or batch encoded last
  std::shared_ptr<const void> ref_;  // keeps that address from being reused while cached
  std::string channel_;
  std::shared_ptr<transport::Publication> frame_;
};

// One client's protocol state, whichever transport it uses. Owned by the protocol handler's
// session map; the hub knows it as a ChannelMember. Its timer is the connection token's expiry.
class Session final : public hub::ChannelMember, public net::Timer {
 public:
  Session(PushEncoder& encoder, transport::Transport& transport);

  void on_channel_publication(std::string_view channel, const std::string& epoch,
                              const std::shared_ptr<const broker::PublicationRecord>& pub) override;
  void on_channel_publications(std::string_view channel, const std::string& epoch,
                               const std::shared_ptr<const broker::PublicationBatch>& batch) override;
  void on_channel_join(std::string_view channel, const broker::ClientInfo& who) override;
  void on_channel_leave(std::string_view channel, const broker::ClientInfo& who) override;
  void on_channel_lost(std::string_view channel) override;

  // Ends the connection now: a disconnect push, then the close with the same code.
  void disconnect(protocol::DisconnectCode code, std::string_view reason);

  transport::Transport& transport() { return transport_; }
  broker::ClientInfo& info() { return info_; }
  const broker::ClientInfo& info() const { return info_; }

  bool connected = false;
  bool user_counted = false;  // counted against max_connections_per_user until it ends
  TokenBucket commands;       // command_rate (off: always takes)
  // What the protocol handler does when the broker lost a channel's stream (see on_channel_lost).
  std::function<void(Session&, std::string_view channel)> lost;
  // Channels whose subscribe waits for the broker's presence answer (not yet in the hub).
  std::unordered_set<std::string> reserving;
  // Set when the commands of this frame must end the connection: the replies so far are sent,
  // then the connection closes with this code (its disconnect push is already in the replies).
  uint16_t close_code = 0;
  std::string close_reason;

 private:
  void on_timer() override;  // the token expired

  PushEncoder& encoder_;
  transport::Transport& transport_;
  broker::ClientInfo info_;
};

}  // namespace herald::server
