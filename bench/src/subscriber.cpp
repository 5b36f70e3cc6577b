#include "subscriber.h"

namespace herald::bench {
namespace {

constexpr uint32_t kConnectId = 1;
constexpr uint32_t kSubscribeId = 2;

}  // namespace

void SubscriberFigures::add(const SubscriberFigures& o) {
  seq_gaps += o.seq_gaps;
  duplicates += o.duplicates;
  offset_gaps += o.offset_gaps;
  wrong_channel += o.wrong_channel;
  other_pushes += o.other_pushes;
  malformed += o.malformed;
  unexpected_replies += o.unexpected_replies;
  subscribe_refused += o.subscribe_refused;
  push_units += o.push_units;
  pushes_in_units += o.pushes_in_units;
}

SubscriberWorker::SubscriberWorker(Shared& shared, int index, std::vector<uint32_t> ids,
                                   const std::vector<std::string>& channels,
                                   std::vector<std::atomic<uint32_t>>& subscribers)
    : Worker(shared, index, std::move(ids)),
      channels_(channels),
      subscribers_(subscribers),
      subs_(ids_.size()) {
  links_.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    subs_[i].channel = static_cast<uint32_t>(ids_[i] % channels_.size());
    links_.push_back(make_link(shared.link, loop_, *this));
    links_.back()->user_data = i;
  }
}

SubscriberWorker::~SubscriberWorker() = default;

LinkCounters SubscriberWorker::link_counters() const {
  LinkCounters sum;
  for (const auto& link : links_) {
    link->add_counters(sum);
  }
  return sum;
}

bool SubscriberWorker::start_slot(size_t slot, int* err) {
  opening_.clear();
  append_connect(opening_, kConnectId);
  opening_.push_back('\n');
  append_subscribe(opening_, kSubscribeId, channels_[subs_[slot].channel]);
  Link& link = *links_[slot];
  if (link.start(opening_)) {
    return true;
  }
  *err = link.last_errno();
  return false;
}

bool SubscriberWorker::slot_active(size_t slot) const {
  return links_[slot]->active();
}

void SubscriberWorker::close_slot(size_t slot) {
  links_[slot]->close();
}

void SubscriberWorker::abort_slot(size_t slot) {
  links_[slot]->abort();
}

void SubscriberWorker::on_link_close(Link& link, bool clean, std::string_view why) {
  auto slot = static_cast<size_t>(link.user_data);
  Sub& sub = subs_[slot];
  if (sub.state == SubState::kSubscribed) {
    subscribers_[sub.channel].fetch_sub(1, std::memory_order_relaxed);
  }
  sub.state = SubState::kGone;
  slot_ended(slot, clean ? std::string_view("closed before subscribing") : why);
}

void SubscriberWorker::on_link_text(Link& link, std::string_view lines) {
  uint64_t now = now_ns();
  uint64_t pushes = 0;
  for_each_line(lines, [&](std::string_view line) { pushes += on_line(link, line, now) ? 1 : 0; });
  if (pushes > 0) {
    ++figures.push_units;
    figures.pushes_in_units += pushes;
  }
}

bool SubscriberWorker::on_line(Link& link, std::string_view line, uint64_t now) {
  ServerLine l;
  if (parse_server_line(line, &l) != JsonError::kNone) {
    ++figures.malformed;
    return false;
  }
  Sub& sub = subs_[static_cast<size_t>(link.user_data)];
  if (l.kind == ServerLine::Kind::kPush) {
    if (l.push == "message") {
      on_publication(sub, l, now);
      return true;
    }
    ++figures.other_pushes;
    return false;
  }
  if (l.kind != ServerLine::Kind::kReply || sub.state != SubState::kSubscribing) {
    ++figures.unexpected_replies;
    return false;
  }
  if (l.is_error) {
    ++figures.subscribe_refused;
    refuse(link, std::string(l.id == kConnectId ? "connect" : "subscribe") +
                     " refused: " + std::string(line.substr(0, 200)));
    return false;
  }
  if (l.id != kSubscribeId) {
    return false;  // the connect result
  }
  SubscribeResult result;
  if (parse_subscribe_result(l.result, &result) != JsonError::kNone) {
    ++figures.malformed;
    refuse(link, "malformed subscribe result: " + std::string(line.substr(0, 200)));
    return false;
  }
  sub.last_offset = result.offset;
  sub.state = SubState::kSubscribed;
  subscribers_[sub.channel].fetch_add(1, std::memory_order_relaxed);
  slot_opened(static_cast<size_t>(link.user_data));
  return false;
}

void SubscriberWorker::on_publication(Sub& sub, const ServerLine& l, uint64_t now) {
  Stamp stamp;
  if (!read_stamp(l.data.string_body(), &stamp)) {
    ++figures.malformed;
    return;
  }
  if (l.channel != channels_[sub.channel]) {
    ++figures.wrong_channel;
    return;
  }
  if (l.offset != sub.last_offset + 1) {
    ++figures.offset_gaps;
  }
  sub.last_offset = l.offset;
  if (stamp.seq < sub.next_seq) {
    ++figures.duplicates;
    return;
  }
  figures.seq_gaps += stamp.seq - sub.next_seq;
  sub.next_seq = stamp.seq + 1;
  histogram.record(now > stamp.sent_ns ? now - stamp.sent_ns : 0);
  ++c_.received;
}

void SubscriberWorker::refuse(Link& link, const std::string& why) {
  shared_.set_first_error(why);
  link.close();
}

}  // namespace herald::bench
