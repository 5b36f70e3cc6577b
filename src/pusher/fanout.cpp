#include "pusher/fanout.h"

#include "base/json_string.h"
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
                                  const broker::PublicationRecord& rec, const std::string* epoch) {
  EventView ev = read_publication(reader_, rec.data);
  std::string out;
  append_event(out, ev.event, pusher_channel, ev.data, ev.user_id);
  if (epoch != nullptr) {
    out.pop_back();  // the closing brace
    append_position(out, rec.offset, *epoch);
    out += '}';
  }
  return out;
}

void append_position(std::string& out, uint64_t offset, std::string_view epoch) {
  out += R"(,"herald_position":{"offset":)";
  out += std::to_string(offset);
  out += R"(,"epoch":)";
  append_json_string(out, epoch);
  out += '}';
}

const std::vector<PusherFrame>& FrameCache::positioned(std::string_view pusher_channel,
                                                       const std::string& epoch,
                                                       Records records) {
  if (positioned_valid_) {
    return positioned_;
  }
  positioned_.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    PusherFrame f;
    f.frame = transport::Publication::make({}, frame_one(pusher_channel, *records[i], &epoch),
                                           MessageType::kText, 0);
    f.except_socket = frames_[i].except_socket;
    positioned_.push_back(std::move(f));
  }
  positioned_valid_ = true;
  return positioned_;
}

void FrameCache::build(std::string_view pusher_channel, Records records) {
  frames_.clear();
  frames_.reserve(records.size());
  for (const auto& rec : records) {
    std::string text = frame_one(pusher_channel, *rec);
    PusherFrame f;
    f.frame = transport::Publication::make({}, text, MessageType::kText, 0);
    if (is_socket_id(rec->publisher.client)) {
      f.except_socket = rec->publisher.client;
    }
    frames_.push_back(std::move(f));
  }
  positioned_valid_ = false;
  channel_ = std::string(pusher_channel);
}

const std::vector<PusherFrame>& FrameCache::frames(
    std::string_view pusher_channel, const std::shared_ptr<const broker::PublicationBatch>& batch) {
  if (!cached(batch.get(), pusher_channel)) {
    build(pusher_channel, *batch);
    key_ = batch.get();
    ref_ = batch;
  }
  return frames_;
}

const std::vector<PusherFrame>& FrameCache::frames(
    std::string_view pusher_channel, const std::shared_ptr<const broker::PublicationRecord>& pub) {
  if (!cached(pub.get(), pusher_channel)) {
    build(pusher_channel, Records(&pub, 1));
    key_ = pub.get();
    ref_ = pub;
  }
  return frames_;
}

}  // namespace herald::pusher
