#include "subscriber.h"

#include <algorithm>
#include <map>

namespace herald::bench {
namespace {

constexpr uint32_t kConnectId = 1;
constexpr uint32_t kSubscribeId = 2;
constexpr int kMaxBackoffExponent = 5;  // the window stops growing at 32 x --reconnect-window

}  // namespace

void FailoverFigures::add(const FailoverFigures& o) {
  attempts += o.attempts;
  failed_attempts += o.failed_attempts;
  recovered_false += o.recovered_false;
  recovered_publications += o.recovered_publications;
  for (const auto& [seq, n] : o.clean_by_seq) {
    clean_by_seq[seq] += n;
  }
  back_after_kill.merge(o.back_after_kill);
}

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

void SubscriberFigures::report_to(Report& report) const {
  report.add_int("seq_gaps", static_cast<int64_t>(seq_gaps));
  report.add_int("duplicates", static_cast<int64_t>(duplicates));
  report.add_int("offset_gaps", static_cast<int64_t>(offset_gaps));
  report.add_int("wrong_channel", static_cast<int64_t>(wrong_channel));
  report.add_int("other_pushes", static_cast<int64_t>(other_pushes));
  report.add_int("malformed_lines", static_cast<int64_t>(malformed));
  report.add_int("unexpected_replies", static_cast<int64_t>(unexpected_replies));
  report.add_int("subscribe_refused", static_cast<int64_t>(subscribe_refused));
}

SubscriberWorker::SubscriberWorker(Shared& shared, int index, std::vector<uint32_t> ids,
                                   const std::vector<std::string>& channels,
                                   std::vector<std::atomic<uint32_t>>& subscribers,
                                   FailoverShared* failover)
    : Worker(shared, index, std::move(ids)),
      channels_(channels),
      subscribers_(subscribers),
      failover_(failover),
      rng_(0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(index + 1) + now_ns()),
      subs_(ids_.size()) {
  links_.reserve(ids_.size());
  for (size_t i = 0; i < ids_.size(); ++i) {
    subs_[i].channel = static_cast<uint32_t>(ids_[i] % channels_.size());
    subs_[i].target = ids_[i];
    links_.push_back(make_link(shared.links[ids_[i] % shared.links.size()], loop_, *this));
    links_.back()->user_data = i;
  }
}

SubscriberWorker::~SubscriberWorker() = default;

LinkCounters SubscriberWorker::link_counters() const {
  LinkCounters sum;
  for (const auto& link : links_) {
    if (link) {
      link->add_counters(sum);
    }
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
  return links_[slot] && links_[slot]->active();
}

void SubscriberWorker::close_slot(size_t slot) {
  Sub& sub = subs_[slot];
  if (sub.state == SubState::kWaiting || sub.state == SubState::kResubscribing) {
    sub.broken = true;  // the run ended before it was back
  }
  if (links_[slot]) {
    links_[slot]->close();
  }
}

void SubscriberWorker::abort_slot(size_t slot) {
  if (links_[slot]) {
    links_[slot]->abort();
  }
}

void SubscriberWorker::on_link_close(Link& link, bool clean, std::string_view why) {
  auto slot = static_cast<size_t>(link.user_data);
  if (failover_close(slot, clean)) {
    return;
  }
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
  if (sub.state == SubState::kWaiting) {
    return false;  // the rest of a link we are leaving
  }
  if (l.kind == ServerLine::Kind::kPush) {
    if (l.push == "message") {
      on_publication(sub, l, now);
      return true;
    }
    ++figures.other_pushes;
    return false;
  }
  if (l.kind == ServerLine::Kind::kReply && sub.state == SubState::kResubscribing) {
    if (l.id != kSubscribeId) {
      if (l.is_error) {  // connect refused: try again later
        ++failover_figures.failed_attempts;
        sub.state = SubState::kWaiting;
        ++waiting_;
        schedule_reconnect(sub, now);
        link.close();
      }
      return false;
    }
    SubscribeResult result;
    if (l.is_error || parse_subscribe_result(l.result, &result) != JsonError::kNone) {
      ++failover_figures.failed_attempts;  // e.g. 501 while the node's Redis link is away
      sub.state = SubState::kWaiting;
      ++waiting_;
      schedule_reconnect(sub, now);
      link.close();
      return false;
    }
    on_resubscribed(static_cast<size_t>(link.user_data), result, now);
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
  if (failover_ != nullptr) {
    sub.epoch = std::string(result.epoch);  // as sent: escapes stay valid in `since`
  }
  sub.state = SubState::kSubscribed;
  subscribers_[sub.channel].fetch_add(1, std::memory_order_relaxed);
  slot_opened(static_cast<size_t>(link.user_data));
  return false;
}

void SubscriberWorker::on_publication(Sub& sub, const ServerLine& l, uint64_t now) {
  if (l.channel != channels_[sub.channel]) {
    ++figures.wrong_channel;
    return;
  }
  take(sub, l.offset, l.data.string_body(), now, true);
}

void SubscriberWorker::take(Sub& sub, uint64_t offset, std::string_view data_body, uint64_t now,
                            bool live) {
  Stamp stamp;
  if (!read_stamp(data_body, &stamp)) {
    ++figures.malformed;
    sub.broken = true;
    return;
  }
  if (offset != sub.last_offset + 1) {
    ++figures.offset_gaps;
    sub.broken = true;
  }
  sub.last_offset = offset;
  if (stamp.seq < sub.next_seq) {
    ++figures.duplicates;
    sub.broken = true;
    return;
  }
  if (stamp.seq != sub.next_seq) {
    figures.seq_gaps += stamp.seq - sub.next_seq;
    sub.broken = true;
  }
  sub.next_seq = stamp.seq + 1;
  if (live) {
    histogram.record(now > stamp.sent_ns ? now - stamp.sent_ns : 0);
  } else {
    ++failover_figures.recovered_publications;
  }
  ++c_.received;
}

// ---- failover: reconnect to a surviving node and recover from the last position ----

bool SubscriberWorker::failover_close(size_t slot, bool clean) {
  if (failover_ == nullptr || (phase_ != Phase::kMeasure && phase_ != Phase::kDrain)) {
    return false;
  }
  Sub& sub = subs_[slot];
  uint64_t now = now_ns();
  switch (sub.state) {
    case SubState::kSubscribed:
      if (clean) {
        return false;
      }
      failover_->lost.fetch_add(1, std::memory_order_relaxed);
      failover_->away.fetch_add(1, std::memory_order_relaxed);
      sub.attempt = 0;
      break;
    case SubState::kResubscribing:
      ++failover_figures.failed_attempts;  // refused or dropped before the subscribe reply
      break;
    case SubState::kWaiting:
      retired_.push_back(std::move(links_[slot]));  // we closed it (a refused subscribe)
      return true;
    default:
      return false;
  }
  sub.state = SubState::kWaiting;
  ++waiting_;
  schedule_reconnect(sub, now);
  retired_.push_back(std::move(links_[slot]));
  return true;
}

void SubscriberWorker::schedule_reconnect(Sub& sub, uint64_t now) {
  // Full jitter: uniformly in [0, window * 2^attempt].
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  double u = static_cast<double>(rng_ >> 11) / static_cast<double>(1ULL << 53);
  double window = options().reconnect_window_s * static_cast<double>(1u << sub.attempt);
  sub.retry_at_ns = now + static_cast<uint64_t>(u * window * 1e9);
  sub.attempt = static_cast<uint8_t>(std::min(sub.attempt + 1, kMaxBackoffExponent));
}

void SubscriberWorker::on_tick(uint64_t now) {
  reconnect_due(now);
}

void SubscriberWorker::on_drain_tick(uint64_t now) {
  reconnect_due(now);
}

int SubscriberWorker::timeout_ms(uint64_t now) {
  (void)now;
  return waiting_ > 0 ? 2 : 50;
}

void SubscriberWorker::reconnect_due(uint64_t now) {
  retired_.clear();  // outside the loop's callbacks: safe to destroy
  if (waiting_ == 0) {
    return;
  }
  for (size_t slot = 0; slot < subs_.size(); ++slot) {
    Sub& sub = subs_[slot];
    if (sub.state != SubState::kWaiting || sub.retry_at_ns > now) {
      continue;
    }
    --waiting_;
    const auto& targets = failover_->targets;
    links_[slot] = make_link(targets[sub.target++ % targets.size()], loop_, *this);
    links_[slot]->user_data = slot;
    opening_.clear();
    append_connect(opening_, kConnectId);
    opening_.push_back('\n');
    append_subscribe_since(opening_, kSubscribeId, channels_[sub.channel], sub.last_offset,
                           sub.epoch);
    ++failover_figures.attempts;
    if (links_[slot]->start(opening_)) {
      sub.state = SubState::kResubscribing;
      continue;
    }
    ++failover_figures.failed_attempts;
    ++waiting_;
    schedule_reconnect(sub, now);
    links_[slot].reset();  // never started: no callback will come
  }
}

void SubscriberWorker::on_resubscribed(size_t slot, const SubscribeResult& result, uint64_t now) {
  Sub& sub = subs_[slot];
  for_each_element(result.publications, [&](const JsonValue& v) {
    PublicationView p;
    if (parse_publication(v, &p) != JsonError::kNone) {
      ++figures.malformed;
      sub.broken = true;
      return true;
    }
    take(sub, p.offset, p.data.string_body(), now, false);
    return true;
  });
  if (!result.recovered) {
    ++failover_figures.recovered_false;
    sub.broken = true;
    sub.last_offset = result.offset;
    sub.epoch = std::string(result.epoch);
  }
  sub.state = SubState::kSubscribed;
  sub.attempt = 0;
  failover_->away.fetch_sub(1, std::memory_order_relaxed);
  failover_->back.fetch_add(1, std::memory_order_relaxed);
  uint64_t killed = failover_->kill_ns.load(std::memory_order_relaxed);
  if (killed != 0 && now > killed) {
    failover_figures.back_after_kill.record(now - killed);
  }
  uint64_t last = failover_->last_back_ns.load(std::memory_order_relaxed);
  while (now > last &&
         !failover_->last_back_ns.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
  }
}

void SubscriberWorker::finish_failover() {
  if (failover_ == nullptr) {
    return;
  }
  for (const Sub& sub : subs_) {
    if (!sub.broken) {
      ++failover_figures.clean_by_seq[sub.next_seq];
    }
  }
}

void SubscriberWorker::refuse(Link& link, const std::string& why) {
  shared_.set_first_error(why);
  link.close();
}

}  // namespace herald::bench
