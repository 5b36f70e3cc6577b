#include "hub/memory_broker.h"

#include <chrono>
#include <cstdio>
#include <functional>

namespace herald::hub {

MemoryBroker::MemoryBroker(std::vector<net::EventLoop*> loops)
    : loops_(std::move(loops)), shards_(loops_.size()) {}

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
  auto it = shard.channels.find(std::string(name));
  if (it != shard.channels.end()) {
    return it->second;
  }
  Channel c;
  // A fresh epoch per channel per process: memory history does not survive a restart, so a
  // client's old position must not be taken for one in the new history.
  char epoch[17];
  std::snprintf(epoch, sizeof(epoch), "%016llx",
                static_cast<unsigned long long>(shard.rng()));
  c.top.epoch = epoch;
  c.subscribed.assign(loops_.size(), 0);
  return shard.channels.emplace(std::string(name), std::move(c)).first->second;
}

MemoryBroker::Channel* MemoryBroker::find(int owner, std::string_view name) {
  Shard& shard = shards_[static_cast<size_t>(owner)];
  auto it = shard.channels.find(std::string(name));
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
  if (c.presence.empty() && c.history.empty() && c.key_order.empty()) {
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

void MemoryBroker::publish(int loop_index, std::string_view channel_name, PublishRequest request,
                           PublishCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), request = std::move(request),
       done = std::move(done)]() mutable {
        Channel& c = channel(owner, name);
        int64_t now = now_ms();
        auto reply = [&](PublishResult result) {
          loops_[static_cast<size_t>(loop_index)]->run_soon(
              [done = std::move(done), result = std::move(result)]() mutable {
                done(std::move(result));
              });
        };
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
            reply(std::move(again));
            return;
          }
        }
        auto rec = std::make_shared<PublicationRecord>();
        rec->offset = ++c.top.offset;
        rec->time_ms = now;
        rec->data = std::move(request.data);
        rec->info = std::move(request.info);
        std::shared_ptr<const PublicationRecord> shared = std::move(rec);
        // History first, then fan-out: whoever reads history after this sees it (contract 1).
        c.options = request.history;
        c.history.push_back(shared);
        trim(c, now);
        for (size_t i = 0; i < c.subscribed.size(); ++i) {
          if (c.subscribed[i] == 0) {
            continue;
          }
          BrokerSink* sink = shards_[i].sink;
          loops_[i]->run_soon([sink, name, epoch = c.top.epoch, shared] {
            sink->on_publication(name, epoch, shared);
          });
        }
        PublishResult result{c.top, false};
        if (!request.idempotency_key.empty()) {
          c.key_order.emplace_back(now, request.idempotency_key);
          c.key_results.emplace(std::move(request.idempotency_key), result);
        }
        reply(std::move(result));
      });
}

void MemoryBroker::subscribe(int loop_index, std::string_view channel_name, DoneCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, name = std::string(channel_name), done = std::move(done)]() mutable {
        ++channel(owner, name).subscribed[static_cast<size_t>(loop_index)];
        loops_[static_cast<size_t>(loop_index)]->run_soon(std::move(done));
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

void MemoryBroker::read_history(int loop_index, std::string_view channel_name, uint64_t after,
                                size_t limit, HistoryCallback done) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, loop_index, after, limit, name = std::string(channel_name),
       done = std::move(done)]() mutable {
        HistoryResult result;
        Channel* found = find(owner, name);
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
        for (const auto& rec : c.history) {
          if (rec->offset <= after) {
            continue;
          }
          if (limit != 0 && result.publications.size() >= limit) {
            break;
          }
          result.publications.push_back(*rec);
        }
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

void MemoryBroker::presence_add(int /*loop_index*/, std::string_view channel_name,
                                ClientInfo who, bool announce_it) {
  int owner = owner_of(channel_name);
  loops_[static_cast<size_t>(owner)]->run_soon(
      [this, owner, announce_it, name = std::string(channel_name), who = std::move(who)] {
        Channel& c = channel(owner, name);
        bool fresh = c.presence.insert_or_assign(who.client, who).second;
        if (fresh && announce_it) {
          announce(c, name, who, true);
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
            users.emplace(who.user, true);
          }
          stats.users = users.size();
        }
        loops_[static_cast<size_t>(loop_index)]->run_soon(
            [done = std::move(done), stats]() mutable { done(stats); });
      });
}

}  // namespace herald::hub
