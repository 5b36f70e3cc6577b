#include "pusher/fanout.h"

#include "pusher/frames.h"

namespace herald::pusher {

bool is_socket_id(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == s.size() || s.size() > 41) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != dot && (s[i] < '0' || s[i] > '9')) {
      return false;
    }
  }
  return true;
}

std::string FrameCache::frame_one(std::string_view pusher_channel,
                                  const broker::PublicationRecord& rec) {
  EventView ev = read_publication(reader_, rec.data);
  std::string out;
  append_event(out, ev.event, pusher_channel, ev.data, ev.user_id);
  return out;
}

const std::vector<PusherFrame>& FrameCache::frames(
    std::string_view pusher_channel, const std::shared_ptr<const broker::PublicationBatch>& batch) {
  if (key_ == batch.get() && channel_ == pusher_channel) {
    return frames_;
  }
  frames_.clear();
  frames_.reserve(batch->size());
  for (const auto& rec : *batch) {
    std::string text = frame_one(pusher_channel, *rec);
    PusherFrame f;
    f.frame = transport::Publication::make({}, text, MessageType::kText, 0);
    if (is_socket_id(rec->publisher.client)) {
      f.except_socket = rec->publisher.client;
    }
    frames_.push_back(std::move(f));
  }
  key_ = batch.get();
  ref_ = batch;
  channel_ = std::string(pusher_channel);
  return frames_;
}

}  // namespace herald::pusher
