#include "broker/memory_broker.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <cstdio>
#include <functional>

#include "broker/publisher_codec.h"
#include "store/history_store.h"

namespace herald::broker {
namespace {

// splitmix64's finalizer: spreads seed ^ hash(name) over all 64 bits of an epoch.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

MemoryBroker::MemoryBroker(std::vector<net::EventLoop*> loops, store::HistoryStore* store,
                           HistoryPolicy policy)
    : loops_(std::move(loops)),
      store_(store),
      policy_(std::move(policy)),
      shards_(loops_.size()),
      epoch_seed_(std::random_device{}() * 0x9e3779b97f4a7c15ULL ^ std::random_device{}()) {
  for (size_t i = 0; i < loops_.size(); ++i) {
    commit_boxes_.push_back(std::make_unique<CommitBox>());
  }
}

template <typename T>
void MemoryBroker::reply(int loop_index, std::function<void(T)> done, T value) {
  loops_[static_cast<size_t>(loop_index)]->run_soon(
      [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

MemoryBroker::~MemoryBroker() = default;

void MemoryBroker::attach(int loop_index, BrokerSink* sink) {
  shards_[static_cast<size_t>(loop_index)].sink = sink;
}

int MemoryBroker::owner_of(std::string_view channel) const {
  return static_cast<int>(std::hash<std::string_view>{}(channel) % loops_.size());
}

int64_t MemoryBroker::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MemoryBroker::Channel& MemoryBroker::channel(int owner, std::string_view name) {
  Shard& shard = shards_[static_cast<size_t>(owner)];
  auto it = shard.channels.find(name);
  if (it != shard.channels.end()) {
    return it->second;
  }
  Channel c;
  c.subscribed.assign(loops_.size(), 0);
  c.options = policy_ ? policy_(name) : HistoryOptions{};
  c.durable = store_ != nullptr && c.options.durable;
  if (c.durable) {
    // Durable: the channel continues where the store says (also after kill -9). Safe to load
    // here: a channel is only forgotten with no append in flight (release_if_unused).
    if (auto st = store_->load_channel(name); st.ok()) {
      c.top = StreamTop{st->epoch, st->top_offset, st->first_offset};
      c.committed = st->top_offset;
      load_idempotency_keys(c, name);
      return shard.channels.emplace(std::string(name), std::move(c)).first->second;
    }
    // Unreadable: carry on with a fresh epoch, which tells clients their history is gone.
  }
  // An epoch of its own per process: memory history does not survive a restart, so a client's
  // old position must not be taken for one in the new history. Within the process, a channel
  // that is forgotten while nothing was ever published in it comes back with the same epoch (a
  // client that saw it empty, {0, E}, can still recover everything published since); one that
  // had publications comes back with a random epoch, since its offsets start again at 1.
  uint64_t name_hash = std::hash<std::string_view>{}(name);
  uint64_t bits = shard.retired.count(name_hash) != 0 ? shard.rng() : mix(epoch_seed_ ^ name_hash);
  char epoch[17];
  std::snprintf(epoch, sizeof(epoch), "%016llx", static_cast<unsigned long long>(bits));
  c.top.epoch = epoch;
  return shard.channels.emplace(std::string(name), std::move(c)).first->second;
}

// A publish retried after a restart (or after the channel was forgotten) must find its first
// result: the keys of the window come back from the store, oldest first as key_order wants.
void MemoryBroker::load_idempotency_keys(Channel& c, std::string_view name) {
  Result<std::vector<store::KeyedOffset>> keys =
      store_->idempotency_keys(name, now_ms() - kIdempotencyWindowMs, kIdempotencyKeysPerChannel);
  if (!keys.ok()) {
    return;  // unreadable: retries within the window may publish twice, as before keys were kept
  }
  for (auto it = keys->rbegin(); it != keys->rend(); ++it) {
    PublishResult result{StreamTop{c.top.epoch, it->offset, c.top.first_offset}, false};
    if (c.key_results.emplace(it->key, result).second) {
      c.key_order.emplace_back(it->time_ms, std::move(it->key));
    }
  }
}

MemoryBroker::Channel* MemoryBroker::find(int owner, std::string_view name) {
  Shard& shard = shards_[static_cast<size_t>(owner)];
  auto it = shard.channels.find(name);
  return it == shard.channels.end() ? nullptr : &it->second;
}

// A channel nobody listens to, nobody is present in, and with nothing left in history or in the
// idempotency window is forgotten, so that the number of channels stays bounded by what is in use.
void MemoryBroker::release_if_unused(int owner, const std::string& name) {
  Shard& shard = shards_[static_cast<size_t>(owner)];
  auto it = shard.channels.find(name);
  if (it == shard.channels.end()) {
    return;
  }
  const Channel& c = it->second;
  for (uint32_t n : c.subscribed) {
    if (n != 0) {
      return;
    }
  }
  if (c.presence.empty() && c.history.empty() && c.key_order.empty() && c.in_flight == 0 &&
      c.outbox.empty()) {
    if (!c.durable && c.top.offset > 0) {
      shard.retired.insert(std::hash<std::string_view>{}(name));
    }
    shard.channels.erase(it);
  }
}

void MemoryBroker::trim(Channel& c, int64_t now) {
  while (c.history.size() > c.options.max_publications) {
    c.history.pop_front();
  }
  if (c.options.ttl_ms > 0) {
    while (!c.history.empty() && c.history.front()->time_ms + c.options.ttl_ms < now) {
      c.history.pop_front();
    }
  }
  c.top.first_offset = c.history.empty() ? c.top.offset + 1 : c.history.front()->offset;
}

// Publications of one owner turn are gathered per channel and sent to each subscribed loop as one
// batch at the end of the turn (flush_outboxes, queued behind this turn's tasks), so a burst
// becomes one frame per subscriber instead of one per publication. Whatever exposes a position
// (read_history, subscribe) flushes the channel's outbox first: then everything a history read
// returns was sent before the read's answer, as contract 3 needs.
void MemoryBroker::fan_out(int owner, Channel& c, const std::string& name,
                           std::shared_ptr<const PublicationRecord> rec) {
  if (!c.outbox.empty() && c.outbox_epoch != c.top.epoch) {
    flush_outbox(c, name);  // a batch never spans two epochs
  }
  Shard& shard = shards_[static_cast<size_t>(owner)];
  if (c.outbox.empty()) {
    c.outbox_epoch = c.top.epoch;
    shard.to_flush.push_back(name);
  }
  c.outbox_bytes += rec->data.size();
  c.outbox.push_back(std::move(rec));
  if (c.outbox.size() >= kMaxBatch || c.outbox_bytes >= kMaxBatchBytes) {
    flush_outbox(c, name);  // its name stays in to_flush: flushing an empty outbox is a no-op
  }
  if (!shard.flush_scheduled) {
    shard.flush_scheduled = true;
    loops_[static_cast<size_t>(owner)]->run_soon([this, owner] { flush_outboxes(owner); });
  }
}

void MemoryBroker::flush_outbox(Channel& c, const std::string& name) {
  if (c.outbox.empty()) {
    return;
  }
  auto batch = std::make_shared<const PublicationBatch>(std::move(c.outbox));
  c.outbox.clear();
  c.outbox_bytes = 0;
  for (size_t i = 0; i < c.subscribed.size(); ++i) {
    if (c.subscribed[i] == 0) {
      continue;
    }
    BrokerSink* sink = shards_[i].sink;
    loops_[i]->run_soon(
        [sink, name, epoch = c.outbox_epoch, batch] { sink->on_publications(name, epoch, batch); });
  }
}

void MemoryBroker::flush_outboxes(int owner) {
  Shard& shard = shards_[static_cast<size_t>(owner)];
  shard.flush_scheduled = false;
  std::vector<std::string> names;
  names.swap(shard.to_flush);
  for (const std::string& name : names) {
    if (Channel* c = find(owner, name)) {
      flush_outbox(*c, name);
      release_if_unused(owner, name);
    }
  }
  names.clear();
  if (shard.to_flush.empty()) {
    shard.to_flush.swap(names);  // keeps the capacity: no regrowth every turn
  }
}

void MemoryBroker::publish(int loop_index, std::string_view channel_name, PublishRequest request,
                           PublishCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), request = std::move(request),
       done = std::move(done)]() mutable {
        Channel& c = channel(owner, name);
        int64_t now = now_ms();
        // Idempotency: forget keys older than the window (or past the per-channel bound),
        // then answer a known key with its first result and publish nothing.
        while (!c.key_order.empty() && (c.key_order.front().first + kIdempotencyWindowMs < now ||
                                        c.key_order.size() > kIdempotencyKeysPerChannel)) {
          c.key_results.erase(c.key_order.front().second);
          c.key_order.pop_front();
        }
        if (!request.idempotency_key.empty()) {
          auto known = c.key_results.find(request.idempotency_key);
          if (known != c.key_results.end()) {
            PublishResult again = known->second;
            again.duplicate = true;
            reply<Result<PublishResult>>(loop_index, std::move(done), std::move(again));
            return;
          }
        }
        auto rec = std::make_shared<PublicationRecord>();
        rec->offset = ++c.top.offset;
        rec->time_ms = now;
        rec->data = std::move(request.data);
        rec->publisher = std::move(request.publisher);
        rec->published_ns = request.published_ns;
        std::shared_ptr<const PublicationRecord> shared = std::move(rec);
        PublishResult result{StreamTop{c.top.epoch, shared->offset, c.top.first_offset}, false};
        if (!request.idempotency_key.empty()) {
          c.key_order.emplace_back(now, request.idempotency_key);
          c.key_results.emplace(request.idempotency_key, result);
        }
        if (c.durable) {
          ++c.in_flight;
          uint64_t generation = c.generation;
          store::RetentionPolicy policy{c.options.max_publications, c.options.ttl_ms};
          store::NewPublication row{shared->offset, now, shared->data,
                                    pack_publisher(shared->publisher), request.idempotency_key};
          store_->append(name, c.top.epoch, std::move(row), policy,
                         [this, owner, loop_index, name, generation, shared,
                          done = std::move(done)](Result<Ok> r) mutable {
                           // On the store's writer thread: back to the owner, in commit order.
                           hand_back(owner, Committed{loop_index, std::move(name), generation,
                                                      std::move(shared), std::move(r),
                                                      std::move(done)});
                         });
          return;
        }
        // History first, then fan-out: whoever reads history after this sees it (contract 1).
        c.history.push_back(shared);
        trim(c, now);
        c.committed = shared->offset;
        fan_out(owner, c, name, shared);
        result.top.first_offset = c.top.first_offset;
        reply<Result<PublishResult>>(loop_index, std::move(done), std::move(result));
      });
}

// The writer calls back once per append, one batch's appends in a row. They go to the owner
// through one mailbox and one posted task for as many as have piled up, so the owner fans a whole
// commit batch out in one loop turn and every subscriber's socket gets them in one write (one
// post per publication made the owner wake per publication: one send per socket per publication).
void MemoryBroker::hand_back(int owner, Committed item) {
  CommitBox& box = *commit_boxes_[static_cast<size_t>(owner)];
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(box.mutex);
    box.items.push_back(std::move(item));
    schedule = !box.scheduled;
    box.scheduled = true;
  }
  if (schedule) {
    loops_[static_cast<size_t>(owner)]->post([this, owner] { drain_commits(owner); });
  }
}

void MemoryBroker::drain_commits(int owner) {
  CommitBox& box = *commit_boxes_[static_cast<size_t>(owner)];
  std::vector<Committed> items;
  {
    std::lock_guard<std::mutex> lock(box.mutex);
    items.swap(box.items);
    box.scheduled = false;
  }
  for (Committed& c : items) {
    on_committed(owner, c.loop_index, c.name, c.generation, std::move(c.rec), std::move(c.result),
                 std::move(c.done));
  }
}

// A durable publication is fanned out and acknowledged only here, once the store committed it.
void MemoryBroker::on_committed(int owner, int loop_index, const std::string& name,
                                uint64_t generation, std::shared_ptr<const PublicationRecord> rec,
                                Result<Ok> r, PublishCallback done) {
  Channel* c = find(owner, name);
  if (c == nullptr) {
    return;  // cannot happen: a channel with appends in flight is never forgotten
  }
  --c->in_flight;
  if (generation != c->generation) {
    reply<Result<PublishResult>>(loop_index, std::move(done),
                                 Error{"history of " + name + " was reset; publish again"});
    release_if_unused(owner, name);
    return;
  }
  if (!r.ok()) {
    // The store is now behind the offsets we handed out: start a new epoch so that no client
    // trusts a position that was never stored, and fail this publish.
    ++c->generation;
    if (auto st = store_->reset_channel(name); st.ok()) {
      c->top = StreamTop{st->epoch, st->top_offset, st->first_offset};
      c->committed = st->top_offset;
    }
    reply<Result<PublishResult>>(loop_index, std::move(done), Error{r.error()});
    release_if_unused(owner, name);
    return;
  }
  c->committed = rec->offset;
  fan_out(owner, *c, name, rec);
  PublishResult result{StreamTop{c->top.epoch, rec->offset, c->top.first_offset}, false};
  reply<Result<PublishResult>>(loop_index, std::move(done), std::move(result));
}

Result<HistoryResult> MemoryBroker::read_durable(Channel& c, const std::string& name,
                                                 const HistoryQuery& query) {
  HistoryResult result;
  auto first = store_->first_offset(name);
  if (!first.ok()) {
    return Error{first.error()};
  }
  // Only what is committed *and fanned out* counts: a publication committed but not yet fanned
  // out will reach subscribers live, so returning it here too would make it a duplicate.
  result.top = StreamTop{c.top.epoch, c.committed, std::min(first.value(), c.committed + 1)};
  // A reverse read starts below c.committed + 1, so the newest rows (committed but not fanned
  // out yet) are never what it returns; a forward read stops at c.committed below.
  uint64_t before = std::min(query.before, c.committed + 1);
  bool none = query.reverse ? before <= result.top.first_offset : query.after >= c.committed;
  if (query.limit == 0 || none) {
    return result;
  }
  // HistoryQuery::kNoLimit is above what SQLite takes, which the store reads as "no limit".
  Result<std::vector<store::Publication>> rows =
      query.reverse ? store_->read_reverse(name, before, query.limit)
                    : store_->read(name, query.after, query.limit);
  if (!rows.ok()) {
    return Error{rows.error()};
  }
  for (auto& row : rows.value()) {
    if (row.offset > c.committed) {
      break;  // (forward reads only) not fanned out yet, and so is every row after it
    }
    result.publications.push_back(PublicationRecord{row.offset, row.time_ms, std::move(row.data),
                                                    unpack_publisher(row.publisher)});
  }
  return result;
}

std::vector<PublicationRecord> MemoryBroker::read_memory(const Channel& c,
                                                         const HistoryQuery& query) {
  std::vector<PublicationRecord> out;
  // History is in offset order: find where the query starts by bisection, then walk from there.
  const auto& h = c.history;
  if (query.reverse) {
    auto end = std::partition_point(h.begin(), h.end(),
                                    [&](const auto& rec) { return rec->offset < query.before; });
    for (auto it = end; it != h.begin() && out.size() < query.limit;) {
      --it;
      out.push_back(**it);
    }
  } else {
    auto it = std::partition_point(h.begin(), h.end(),
                                   [&](const auto& rec) { return rec->offset <= query.after; });
    for (; it != h.end() && out.size() < query.limit; ++it) {
      out.push_back(**it);
    }
  }
  return out;
}

void MemoryBroker::subscribe(int loop_index, std::string_view channel_name,
                             SubscribeCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), done = std::move(done)]() mutable {
        Channel& c = channel(owner, name);
        flush_outbox(c, name);  // what was published before the subscribe is not sent to it
        ++c.subscribed[static_cast<size_t>(loop_index)];
        loops_[static_cast<size_t>(loop_index)]->run_soon(
            [done = std::move(done)] { done(Ok{}); });
      });
}

void MemoryBroker::unsubscribe(int loop_index, std::string_view channel_name) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name)] {
        Channel* c = find(owner, name);
        if (c == nullptr) {
          return;
        }
        uint32_t& n = c->subscribed[static_cast<size_t>(loop_index)];
        if (n > 0) {
          --n;
        }
        release_if_unused(owner, name);
      });
}

void MemoryBroker::read_history(int loop_index, std::string_view channel_name,
                                const HistoryQuery& query, HistoryCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, query, name = std::string(channel_name),
       done = std::move(done)]() mutable {
        Channel* found = find(owner, name);
        if (found == nullptr && store_ != nullptr && (!policy_ || policy_(name).durable)) {
          found = &channel(owner, name);  // loads the committed position of a durable channel
        }
        if (found != nullptr) {
          flush_outbox(*found, name);  // all this read returns is sent before its answer
        }
        if (found != nullptr && found->durable) {
          Result<HistoryResult> r = read_durable(*found, name, query);
          release_if_unused(owner, name);
          reply<Result<HistoryResult>>(loop_index, std::move(done), std::move(r));
          return;
        }
        HistoryResult result;
        if (found == nullptr) {
          // Never published and nobody here: an empty position (a query must not create state).
          loops_[static_cast<size_t>(loop_index)]->run_soon(
              [done = std::move(done), result = std::move(result)]() mutable {
                done(std::move(result));
              });
          return;
        }
        Channel& c = *found;
        trim(c, now_ms());  // the TTL may have passed since the last publish
        result.top = c.top;
        result.publications = read_memory(c, query);
        loops_[static_cast<size_t>(loop_index)]->run_soon(
            [done = std::move(done), result = std::move(result)]() mutable {
              done(std::move(result));
            });
      });
}

void MemoryBroker::announce(const Channel& c, const std::string& name, const ClientInfo& who,
                            bool join) {
  for (size_t i = 0; i < c.subscribed.size(); ++i) {
    if (c.subscribed[i] == 0) {
      continue;
    }
    BrokerSink* sink = shards_[i].sink;
    loops_[i]->run_soon([sink, name, who, join] {
      if (join) {
        sink->on_join(name, who);
      } else {
        sink->on_leave(name, who);
      }
    });
  }
}

void MemoryBroker::presence_add(int loop_index, std::string_view channel_name, ClientInfo who,
                                bool announce_it, size_t limit, AddedCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon([this, owner, loop_index, announce_it, limit,
                                                name = std::string(channel_name),
                                                who = std::move(who),
                                                done = std::move(done)]() mutable {
    Channel& c = channel(owner, name);
    bool known = c.presence.count(who.client) != 0;
    bool added = known || limit == 0 || c.presence.size() < limit;
    // The answer is queued before the join: on the caller's loop it runs first.
    if (done) {
      reply<Result<bool>>(loop_index, std::move(done), Result<bool>(added));
    }
    if (!added) {
      release_if_unused(owner, name);
      return;
    }
    if (!known) {
      c.presence.emplace(who.client, who);
      if (announce_it) {
        announce(c, name, who, true);
      }
    }
  });
}

void MemoryBroker::presence_remove(int /*loop_index*/, std::string_view channel_name,
                                   std::string_view client, bool announce_it) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, announce_it, name = std::string(channel_name), client = std::string(client)] {
        Channel* c = find(owner, name);
        if (c == nullptr) {
          return;
        }
        auto it = c->presence.find(client);
        if (it == c->presence.end()) {
          return;
        }
        ClientInfo who = std::move(it->second);
        c->presence.erase(it);
        if (announce_it) {
          announce(*c, name, who, false);
        }
        release_if_unused(owner, name);
      });
}

void MemoryBroker::presence(int loop_index, std::string_view channel_name,
                            PresenceCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), done = std::move(done)]() mutable {
        std::vector<ClientInfo> clients;
        if (const Channel* c = find(owner, name)) {
          for (const auto& [id, who] : c->presence) {
            clients.push_back(who);
          }
        }
        loops_[static_cast<size_t>(loop_index)]->run_soon(
            [done = std::move(done), clients = std::move(clients)]() mutable {
              done(std::move(clients));
            });
      });
}

void MemoryBroker::presence_stats(int loop_index, std::string_view channel_name,
                                  PresenceStatsCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), done = std::move(done)]() mutable {
        PresenceStats stats;
        if (const Channel* c = find(owner, name)) {
          stats.clients = c->presence.size();
          std::unordered_map<std::string_view, bool> users;
          for (const auto& [id, who] : c->presence) {
            if (!who.user.empty()) {  // anonymous connections are clients, not users
              users.emplace(who.user, true);
            }
          }
          stats.users = users.size();
        }
        loops_[static_cast<size_t>(loop_index)]->run_soon(
            [done = std::move(done), stats]() mutable { done(stats); });
      });
}

}  // namespace herald::broker
