#include "server/protocol_session.h"

#include <cstdio>


namespace herald::server {

protocol::ClientInfoView view_of(const broker::ClientInfo& who) {
  return protocol::ClientInfoView{who.user, who.client, who.info};
}

protocol::PublicationView view_of(const broker::PublicationRecord& rec, std::string_view epoch,
                                  const protocol::ClientInfoView* info) {
  return protocol::PublicationView{rec.offset, epoch, rec.data,
                                   rec.publisher.client.empty() ? nullptr : info, rec.time_ms};
}

PublicationViews::PublicationViews(const std::vector<broker::PublicationRecord>& records,
                                   std::string_view epoch) {
  infos.reserve(records.size());
  pubs.reserve(records.size());
  for (const auto& rec : records) {
    infos.push_back(view_of(rec.publisher));
    pubs.push_back(view_of(rec, epoch, &infos.back()));
  }
}

namespace {

void append_push(std::string& out, std::string_view channel, const std::string& epoch,
                 const broker::PublicationRecord& rec) {
  protocol::ClientInfoView info = view_of(rec.publisher);
  protocol::append_message_push(out, channel, view_of(rec, epoch, &info));
}

}  // namespace

const transport::Publication& PushEncoder::encoded(std::string_view channel, const std::string& epoch,
                                        const std::shared_ptr<const broker::PublicationRecord>& rec) {
  if (key_ != rec.get() || channel_ != channel) {
    std::string push;
    append_push(push, channel, epoch, *rec);
    frame_ = transport::Publication::make({}, push, MessageType::kText, 0);
    key_ = rec.get();
    ref_ = rec;
    channel_ = std::string(channel);
  }
  return *frame_;
}

const transport::Publication& PushEncoder::encoded(std::string_view channel, const std::string& epoch,
                                        const std::shared_ptr<const broker::PublicationBatch>& batch) {
  if (key_ != batch.get() || channel_ != channel) {
    std::string pushes;
    for (const auto& rec : *batch) {
      if (!pushes.empty()) {
        pushes.push_back('\n');
      }
      append_push(pushes, channel, epoch, *rec);
    }
    frame_ = transport::Publication::make({}, pushes, MessageType::kText, 0);
    key_ = batch.get();
    ref_ = batch;
    channel_ = std::string(channel);
  }
  return *frame_;
}

Session::Session(PushEncoder& encoder, transport::Transport& transport)
    : encoder_(encoder), transport_(transport) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(transport.id()));
  info_.client = id;
}

void Session::on_channel_publication(std::string_view channel, const std::string& epoch,
                                     const std::shared_ptr<const broker::PublicationRecord>& pub) {
  transport_.send_shared(encoder_.encoded(channel, epoch, pub),
                         transport::PushPositions{channel, epoch, pub->offset, pub->offset});
}

void Session::on_channel_publications(std::string_view channel, const std::string& epoch,
                                      const std::shared_ptr<const broker::PublicationBatch>& batch) {
  transport_.send_shared(encoder_.encoded(channel, epoch, batch),
                         transport::PushPositions{channel, epoch, batch->front()->offset,
                                                  batch->back()->offset});
}

void Session::on_channel_join(std::string_view channel, const broker::ClientInfo& who) {
  std::string push;
  protocol::append_join_push(push, channel, view_of(who));
  transport_.send_text(push);
}

void Session::on_channel_leave(std::string_view channel, const broker::ClientInfo& who) {
  std::string push;
  protocol::append_leave_push(push, channel, view_of(who));
  transport_.send_text(push);
}

void Session::on_channel_lost(std::string_view channel) {
  if (lost) {
    lost(*this, channel);
  }
}

void Session::disconnect(protocol::DisconnectCode code, std::string_view reason) {
  std::string push;
  protocol::append_disconnect_push(push, code, reason);
  transport_.send_text(push);
  transport_.close(static_cast<uint16_t>(code), reason);
}

void Session::on_timer() { disconnect(protocol::DisconnectCode::kTokenExpired, "token expired"); }

}  // namespace herald::server
