#include "hub/hub.h"

#include <algorithm>
#include <chrono>

namespace herald::hub {

Hub::Hub(int loop_index, Broker& broker) : loop_(loop_index), broker_(broker) {
  broker_.attach(loop_, this);
}

Hub::~Hub() = default;

bool Hub::is_subscribed(ChannelMember* m, std::string_view channel) const {
  auto it = member_channels_.find(m);
  if (it == member_channels_.end()) {
    return false;
  }
  return std::find(it->second.begin(), it->second.end(), channel) != it->second.end();
}

void Hub::subscribe(ChannelMember* m, std::string_view channel_view,
                    std::optional<Position> since, SubscribeCallback done) {
  if (is_subscribed(m, channel_view)) {
    return;
  }
  std::string channel(channel_view);
  member_channels_[m].push_back(channel);
  auto [it, created] = channels_.try_emplace(channel);
  LocalChannel& lc = it->second;
  uint64_t ticket = next_ticket_++;
  lc.recovering.push_back(Recovering{m, ticket, std::move(since), std::move(done), {}, {}});
  if (created) {
    broker_.subscribe(loop_, channel, [this, channel](Result<Ok> r) {
      auto found = channels_.find(channel);
      if (found == channels_.end()) {
        return;  // cannot happen: an empty channel waits for this callback before it goes
      }
      if (!r.ok()) {
        fail_subscribe(channel, r.error());
        return;
      }
      found->second.broker_ready = true;
      if (found->second.members.empty() && found->second.recovering.empty()) {
        release_if_empty(channel);
        return;
      }
      std::vector<uint64_t> tickets;
      for (const Recovering& rec : found->second.recovering) {
        tickets.push_back(rec.ticket);
      }
      for (uint64_t t : tickets) {
        start_recovery(channel, t);
      }
    });
  } else if (lc.broker_ready) {
    start_recovery(channel, ticket);
  }
}

void Hub::fail_subscribe(const std::string& channel, const std::string& error) {
  auto found = channels_.find(channel);
  std::vector<Recovering> waiting = std::move(found->second.recovering);
  // The broker holds no subscription: the channel goes without an unsubscribe. Only members
  // still recovering can be here (none became live before the broker's answer).
  channels_.erase(found);
  for (Recovering& rec : waiting) {
    auto mc = member_channels_.find(rec.member);
    if (mc != member_channels_.end()) {
      std::erase(mc->second, channel);
      if (mc->second.empty()) {
        member_channels_.erase(mc);
      }
    }
  }
  for (Recovering& rec : waiting) {
    rec.done(Error{error});
  }
}

void Hub::start_recovery(const std::string& channel, uint64_t ticket) {
  LocalChannel& lc = channels_.at(channel);
  auto it = std::find_if(lc.recovering.begin(), lc.recovering.end(),
                         [ticket](const Recovering& r) { return r.ticket == ticket; });
  if (it == lc.recovering.end()) {
    return;
  }
  // Recovery replays what was missed in order: a forward read of everything after the client's
  // offset. Without a position only the channel's top is needed (limit 0).
  HistoryQuery query;
  if (it->since) {
    query.after = it->since->offset;
  } else {
    query.limit = 0;
  }
  broker_.read_history(loop_, channel, query, [this, channel, ticket](Result<HistoryResult> r) {
    finish_recovery(channel, ticket, std::move(r));
  });
}

void Hub::finish_recovery(const std::string& channel, uint64_t ticket, Result<HistoryResult> r) {
  auto found = channels_.find(channel);
  if (found == channels_.end()) {
    return;
  }
  LocalChannel& lc = found->second;
  auto it = std::find_if(lc.recovering.begin(), lc.recovering.end(),
                         [ticket](const Recovering& rec) { return rec.ticket == ticket; });
  if (it == lc.recovering.end()) {
    return;  // the member left while history was being read
  }
  Recovering rec = std::move(*it);
  lc.recovering.erase(it);
  ChannelMember* m = rec.member;

  if (!r.ok()) {
    auto mc = member_channels_.find(m);
    if (mc != member_channels_.end()) {
      std::erase(mc->second, channel);
    }
    release_if_empty(channel);
    rec.done(Error{r.error()});
    return;
  }
  HistoryResult& h = r.value();
  SubscribeReply reply;
  reply.top = h.top;
  if (rec.since) {
    const Position& since = *rec.since;
    // Recovered only if nothing between the client's offset and the history's start was lost,
    // in the same epoch. A client "ahead" of the top (another epoch in disguise) is not trusted.
    reply.recovered = since.epoch == h.top.epoch && since.offset + 1 >= h.top.first_offset &&
                      since.offset <= h.top.offset;
    if (reply.recovered) {
      reply.publications = std::move(h.publications);
    }
  }
  uint64_t covered = h.top.offset;
  std::string epoch = h.top.epoch;
  rec.done(std::move(reply));
  // The callback may have unsubscribed m (or more); only a still-subscribed m goes live.
  if (!is_subscribed(m, channel)) {
    return;
  }
  auto again = channels_.find(channel);
  if (again == channels_.end()) {
    return;
  }
  for (const auto& pub : rec.buffered) {
    if (pub->offset > covered) {
      m->on_channel_publication(channel, rec.buffered_epoch.empty() ? epoch : rec.buffered_epoch,
                                pub);
    }
  }
  again->second.members.push_back(m);
}

void Hub::remove_member(const std::string& channel, LocalChannel& lc, ChannelMember* m) {
  auto mit = std::find(lc.members.begin(), lc.members.end(), m);
  if (mit != lc.members.end()) {
    *mit = lc.members.back();  // order among members does not matter
    lc.members.pop_back();
  }
  std::erase_if(lc.recovering, [m](const Recovering& r) { return r.member == m; });
  (void)channel;
}

void Hub::release_if_empty(const std::string& channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    return;
  }
  LocalChannel& lc = it->second;
  // A channel whose broker subscription is still on its way stays until it completes, so that
  // every subscribe() is matched by exactly one unsubscribe().
  if (!lc.members.empty() || !lc.recovering.empty() || !lc.broker_ready) {
    return;
  }
  broker_.unsubscribe(loop_, channel);
  channels_.erase(it);
}

void Hub::unsubscribe(ChannelMember* m, std::string_view channel_view) {
  auto mc = member_channels_.find(m);
  if (mc == member_channels_.end()) {
    return;
  }
  auto pos = std::find(mc->second.begin(), mc->second.end(), channel_view);
  if (pos == mc->second.end()) {
    return;
  }
  std::string channel = std::move(*pos);
  mc->second.erase(pos);
  if (mc->second.empty()) {
    member_channels_.erase(mc);
  }
  auto it = channels_.find(channel);
  if (it != channels_.end()) {
    remove_member(channel, it->second, m);
    release_if_empty(channel);
  }
}

void Hub::leave_all(ChannelMember* m) {
  auto mc = member_channels_.find(m);
  if (mc == member_channels_.end()) {
    return;
  }
  std::vector<std::string> channels = std::move(mc->second);
  member_channels_.erase(mc);
  for (const std::string& channel : channels) {
    auto it = channels_.find(channel);
    if (it != channels_.end()) {
      remove_member(channel, it->second, m);
      release_if_empty(channel);
    }
  }
}

void Hub::publish(std::string_view channel, PublishRequest request, Broker::PublishCallback done) {
  if (request.published_ns == 0) {
    request.published_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  }
  broker_.publish(loop_, channel, std::move(request), std::move(done));
}

void Hub::history(std::string_view channel, const HistoryQuery& query,
                  Broker::HistoryCallback done) {
  broker_.read_history(loop_, channel, query, std::move(done));
}

void Hub::on_publications(std::string_view channel, const std::string& epoch,
                          const std::shared_ptr<const PublicationBatch>& batch) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    return;
  }
  LocalChannel& lc = it->second;
  // Members must not unsubscribe synchronously from on_channel_publication (the list is being
  // walked); closes are deferred to the end of the loop turn by net::Stream.
  for (ChannelMember* m : lc.members) {
    if (batch->size() == 1) {
      m->on_channel_publication(channel, epoch, batch->front());
    } else {
      m->on_channel_publications(channel, epoch, batch);
    }
  }
  for (Recovering& r : lc.recovering) {
    r.buffered.insert(r.buffered.end(), batch->begin(), batch->end());
    r.buffered_epoch = epoch;
  }
  if (on_delivered && !lc.members.empty()) {
    on_delivered(*batch, lc.members.size());
  }
}

std::vector<std::string> Hub::channels_of(ChannelMember* m) const {
  auto it = member_channels_.find(m);
  return it == member_channels_.end() ? std::vector<std::string>{} : it->second;
}

void Hub::on_join(std::string_view channel, const ClientInfo& who) {
  auto it = channels_.find(channel);
  if (it != channels_.end()) {
    for (ChannelMember* m : it->second.members) {
      m->on_channel_join(channel, who);
    }
  }
}

// Members that are live get told, and decide (the protocol session makes its client resubscribe).
// Members still recovering start their recovery again: their history read may predate the break,
// and what they buffered may hold a gap; a new ticket makes the old read's answer go unheard.
void Hub::on_lost(std::string_view channel_view) {
  auto it = channels_.find(channel_view);
  if (it == channels_.end()) {
    return;
  }
  std::string channel(channel_view);
  LocalChannel& lc = it->second;
  std::vector<uint64_t> restart;
  for (Recovering& rec : lc.recovering) {
    rec.ticket = next_ticket_++;
    rec.buffered.clear();
    rec.buffered_epoch.clear();
    restart.push_back(rec.ticket);
  }
  std::vector<ChannelMember*> members = lc.members;  // a member may unsubscribe from the call
  if (lc.broker_ready) {
    for (uint64_t t : restart) {
      start_recovery(channel, t);
    }
  }
  for (ChannelMember* m : members) {
    if (is_subscribed(m, channel)) {
      m->on_channel_lost(channel);
    }
  }
}

void Hub::on_leave(std::string_view channel, const ClientInfo& who) {
  auto it = channels_.find(channel);
  if (it != channels_.end()) {
    for (ChannelMember* m : it->second.members) {
      m->on_channel_leave(channel, who);
    }
  }
}

}  // namespace herald::hub
