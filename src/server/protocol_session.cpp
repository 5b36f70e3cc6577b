#include "server/protocol_session.h"

#include <cstdio>

#include "server/connection.h"

namespace herald::server {

protocol::ClientInfoView view_of(const hub::ClientInfo& who) {
  return protocol::ClientInfoView{who.user, who.client, who.info};
}

protocol::PublicationView view_of(const hub::PublicationRecord& rec, std::string_view epoch,
                                  const protocol::ClientInfoView* info) {
  return protocol::PublicationView{rec.offset, epoch, rec.data,
                                   rec.publisher.client.empty() ? nullptr : info, rec.time_ms};
}

const Publication& PushEncoder::encoded(std::string_view channel, const std::string& epoch,
                                        const std::shared_ptr<const hub::PublicationRecord>& rec) {
  if (record_ != rec.get() || channel_ != channel) {
    std::string push;
    protocol::ClientInfoView info = view_of(rec->publisher);
    protocol::append_message_push(push, channel, view_of(*rec, epoch, &info));
    frame_ = Publication::make({}, push, MessageType::kText, 0);
    record_ = rec.get();
    record_ref_ = rec;
    channel_ = std::string(channel);
  }
  return *frame_;
}

Session::Session(PushEncoder& encoder, Connection& conn) : encoder_(encoder), conn_(conn) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(conn.id()));
  info_.client = id;
}

void Session::on_channel_publication(std::string_view channel, const std::string& epoch,
                                     const std::shared_ptr<const hub::PublicationRecord>& pub) {
  conn_.deliver(encoder_.encoded(channel, epoch, pub));
}

void Session::on_channel_join(std::string_view channel, const hub::ClientInfo& who) {
  std::string push;
  protocol::append_join_push(push, channel, view_of(who));
  conn_.send(push, MessageType::kText);
}

void Session::on_channel_leave(std::string_view channel, const hub::ClientInfo& who) {
  std::string push;
  protocol::append_leave_push(push, channel, view_of(who));
  conn_.send(push, MessageType::kText);
}

void Session::disconnect(protocol::DisconnectCode code, std::string_view reason) {
  std::string push;
  protocol::append_disconnect_push(push, code, reason);
  conn_.send(push, MessageType::kText);
  conn_.close(static_cast<uint16_t>(code), reason);
}

void Session::on_timer() { disconnect(protocol::DisconnectCode::kTokenExpired, "token expired"); }

}  // namespace herald::server
