#include "broker/redis_broker.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>

#include "broker/publisher_codec.h"

namespace herald::broker {
namespace {

using resp::Reply;
using resp::Type;

bool to_u64(std::string_view s, uint64_t& v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

uint64_t reply_u64(const Reply& r) {
  if (r.type == Type::kInteger) {
    return r.integer < 0 ? 0 : static_cast<uint64_t>(r.integer);
  }
  uint64_t v = 0;
  if (r.is_string()) {
    to_u64(r.str, v);
  }
  return v;
}

Error bad_reply(const char* what, const Reply& r) {
  if (r.is_error()) {
    return Error{std::string("redis: ") + what + ": " + r.str};
  }
  return Error{std::string("redis: unexpected reply to ") + what + ": " + r.debug_string()};
}

// One XRANGE entry: {"<offset>-0", {"d", data, "t", time, ["p", publisher]}}.
bool parse_entry(Reply& entry, PublicationRecord& out) {
  if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[1].is_array()) {
    return false;
  }
  std::string_view id = entry.elements[0].str;
  if (!to_u64(id.substr(0, id.find('-')), out.offset)) {
    return false;
  }
  auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str;
    if (name == "d") {
      out.data = std::move(fields[i + 1].str);
    } else if (name == "t") {
      uint64_t t = 0;
      to_u64(fields[i + 1].str, t);
      out.time_ms = static_cast<int64_t>(t);
    } else if (name == "p") {
      out.publisher = unpack_publisher(fields[i + 1].str);
    }
  }
  return true;
}

// The read script's answer: {epoch, top, first, entries}.
Result<HistoryResult> parse_history(Reply& r) {
  if (!r.is_array() || r.elements.size() != 4 || !r.elements[3].is_array()) {
    return bad_reply("history read", r);
  }
  HistoryResult out;
  out.top.epoch = r.elements[0].str;
  out.top.offset = reply_u64(r.elements[1]);
  out.top.first_offset = reply_u64(r.elements[2]);
  for (Reply& entry : r.elements[3].elements) {
    PublicationRecord rec;
    if (!parse_entry(entry, rec)) {
      return bad_reply("history read (entry)", entry);
    }
    out.publications.push_back(std::move(rec));
  }
  return out;
}

// A publication as the publish script PUBLISHes it:
// "p<epoch> <offset> <time> <publisher length> <publisher bytes><data>". Another program could
// write to our channels: anything malformed is dropped, never trusted.
bool parse_publication(std::string_view payload, std::string& epoch, PublicationRecord& rec) {
  payload.remove_prefix(1);
  auto next = [&payload](std::string_view& field) {
    size_t sp = payload.find(' ');
    if (sp == std::string_view::npos) {
      return false;
    }
    field = payload.substr(0, sp);
    payload.remove_prefix(sp + 1);
    return true;
  };
  std::string_view e, off, time, len;
  uint64_t t = 0, n = 0;
  if (!next(e) || !next(off) || !next(time) || !next(len) || !to_u64(off, rec.offset) ||
      !to_u64(time, t) || !to_u64(len, n) || n > payload.size() || e.empty()) {
    return false;
  }
  epoch.assign(e);
  rec.time_ms = static_cast<int64_t>(t);
  rec.publisher = unpack_publisher(payload.substr(0, n));
  rec.data.assign(payload.substr(n));
  return true;
}

}  // namespace

// Renews this node's presence leases every lease/3. Thread: the Redis loop.
class RedisBroker::RefreshTimer final : public net::Timer {
 public:
  explicit RefreshTimer(RedisBroker& broker) : broker_(broker) {}
  void arm() {
    uint32_t every = std::max<uint32_t>(broker_.options_.presence_lease_ms / 3, 100);
    broker_.io_loop_->timers().arm(*this, broker_.io_loop_->now_ms(), every);
  }

 private:
  void on_timer() override {
    broker_.refresh_presence();
    arm();
  }
  RedisBroker& broker_;
};

RedisBroker::RedisBroker(std::vector<net::EventLoop*> loops, RedisBrokerOptions options,
                         HistoryPolicy policy)
    : loops_(std::move(loops)),
      options_(std::move(options)),
      policy_(std::move(policy)),
      sinks_(loops_.size(), nullptr) {
  io_loop_ = std::make_unique<net::EventLoop>(static_cast<int>(loops_.size()));
  RedisConnection::Options co;
  co.url = options_.url;
  co.command_timeout_ms = options_.command_timeout_ms;
  co.connect_timeout_ms = options_.command_timeout_ms;
  RedisConnection::Listener* self = this;  // a private base: converted here, inside the class
  cmd_ = std::make_unique<RedisConnection>(*io_loop_, co, self);
  co.subscriber = true;
  sub_ = std::make_unique<RedisConnection>(*io_loop_, co, self);
  refresh_timer_ = std::make_unique<RefreshTimer>(*this);
}

RedisBroker::~RedisBroker() { stop(); }

Result<Ok> RedisBroker::start() {
  if (auto r = io_loop_->init(); !r) {
    return r;
  }
  io_loop_->post([this] {
    cmd_->start();
    sub_->start();
    refresh_timer_->arm();
  });
  thread_ = std::thread([this] { io_loop_->run(); });
  return Ok{};
}

void RedisBroker::stop() {
  if (!thread_.joinable()) {
    return;
  }
  io_loop_->post([this] {
    refresh_timer_->cancel();
    cmd_->stop();
    sub_->stop();
    io_loop_->stop();
  });
  thread_.join();
}

void RedisBroker::attach(int loop_index, BrokerSink* sink) {
  sinks_[static_cast<size_t>(loop_index)] = sink;
}

std::string RedisBroker::key(std::string_view channel, char kind) const {
  std::string k;
  k.reserve(options_.prefix.size() + channel.size() + 6);
  k += options_.prefix;
  k += ":{";  // a hash tag: all of one channel's keys are in one Cluster slot
  k += channel;
  k += "}:";
  k += kind;
  return k;
}

std::string_view RedisBroker::channel_of(std::string_view fanout) const {
  std::string_view p = options_.prefix;
  if (fanout.size() < p.size() + 5 || fanout.substr(0, p.size()) != p ||
      fanout.substr(p.size(), 2) != ":{" || fanout.substr(fanout.size() - 3) != "}:f") {
    return {};
  }
  return fanout.substr(p.size() + 2, fanout.size() - p.size() - 5);
}

template <typename T>
void RedisBroker::reply(int loop_index, std::function<void(T)> done, T value) {
  if (!done) {
    return;
  }
  loops_[static_cast<size_t>(loop_index)]->post(
      [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

void RedisBroker::eval(RedisConnection& conn, const redis_scripts::Script& script,
                       std::vector<std::string> keys_and_args, size_t num_keys,
                       RedisConnection::Callback done) {
  auto args = std::make_shared<std::vector<std::string>>(std::move(keys_and_args));
  std::string nkeys = std::to_string(num_keys);
  std::vector<std::string_view> cmd{"EVALSHA", script.sha1, nkeys};
  cmd.insert(cmd.end(), args->begin(), args->end());
  conn.command(cmd, [&conn, &script, args, nkeys, done = std::move(done)](
                        Result<Reply> r) mutable {
    if (r.ok() && r->is_error() && r->str.rfind("NOSCRIPT", 0) == 0) {
      // Redis restarted or its scripts were flushed since we loaded them: send the text.
      std::vector<std::string_view> again{"EVAL", script.text, nkeys};
      again.insert(again.end(), args->begin(), args->end());
      conn.command(again, std::move(done));
      return;
    }
    if (done) {
      done(std::move(r));
    }
  });
}

std::string RedisBroker::new_epoch() {
  char epoch[17];
  std::snprintf(epoch, sizeof(epoch), "%016llx", static_cast<unsigned long long>(rng_()));
  return epoch;
}

// The meta outlives the history by a day: a client idle past the history TTL whose channel saw
// nothing new still recovers, instead of meeting a new epoch.
int64_t RedisBroker::meta_ttl(const HistoryOptions& h) {
  return h.ttl_ms > 0 ? h.ttl_ms + 86'400'000 : 0;
}

void RedisBroker::update_ready() {
  ready_.store(cmd_->ready() && sub_->ready(), std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Publish and history

void RedisBroker::publish(int loop_index, std::string_view channel, PublishRequest request,
                          PublishCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), request = std::move(request),
                  done = std::move(done)]() mutable {
    RedisConnection& conn = shard_for(name);
    if (!conn.ready()) {
      reply<Result<PublishResult>>(loop_index, std::move(done),
                                   Error{"redis " + options_.url.address() + " is unavailable"});
      return;
    }
    HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
    std::vector<std::string> args{key(name, 's'),
                                  key(name, 'm'),
                                  key(name, 'i'),
                                  key(name, 'k'),
                                  fanout_channel(name),
                                  std::move(request.data),
                                  pack_publisher(request.publisher),
                                  std::move(request.idempotency_key),
                                  std::to_string(h.max_publications),
                                  std::to_string(h.ttl_ms),
                                  std::to_string(meta_ttl(h)),
                                  new_epoch(),
                                  std::to_string(kIdempotencyWindowMs),
                                  std::to_string(kIdempotencyKeysPerChannel)};
    eval(conn, redis_scripts::publish(), std::move(args), 4,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok()) {
             reply<Result<PublishResult>>(loop_index, std::move(done), Error{r.error()});
             return;
           }
           Reply& v = r.value();
           if (!v.is_array() || v.elements.size() != 4) {
             reply<Result<PublishResult>>(loop_index, std::move(done), bad_reply("publish", v));
             return;
           }
           PublishResult out;
           out.top.epoch = v.elements[0].str;
           out.top.offset = reply_u64(v.elements[1]);
           out.top.first_offset = reply_u64(v.elements[2]);
           out.duplicate = reply_u64(v.elements[3]) != 0;
           reply<Result<PublishResult>>(loop_index, std::move(done), std::move(out));
         });
  });
}

void RedisBroker::read_history(int loop_index, std::string_view channel,
                               const HistoryQuery& query, HistoryCallback done) {
  io_loop_->post([this, loop_index, query, name = std::string(channel),
                  done = std::move(done)]() mutable {
    RedisConnection& conn = shard_for(name);
    if (!conn.ready()) {
      reply<Result<HistoryResult>>(loop_index, std::move(done),
                                   Error{"redis " + options_.url.address() + " is unavailable"});
      return;
    }
    HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
    std::string limit =
        query.limit == HistoryQuery::kNoLimit ? "-1" : std::to_string(query.limit);
    std::vector<std::string> args{key(name, 's'),         key(name, 'm'),
                                  query.reverse ? "1" : "0", std::to_string(query.after),
                                  std::to_string(query.before), limit,
                                  std::to_string(h.ttl_ms),  "",
                                  "0"};
    eval(conn, redis_scripts::read(), std::move(args), 2,
         [this, loop_index, name, done = std::move(done)](Result<Reply> r) mutable {
           Result<HistoryResult> out =
               r.ok() ? parse_history(r.value()) : Result<HistoryResult>(Error{r.error()});
           deliver_read(name, loop_index, std::move(done), std::move(out));
         });
  });
}

// Contract 3: a read of a channel this node delivers live is answered only after everything up
// to its top was handed to the loops (publications travel on the other connection).
void RedisBroker::deliver_read(const std::string& name, int loop, HistoryCallback done,
                               Result<HistoryResult> r) {
  auto it = channels_.find(name);
  if (r.ok() && it != channels_.end() && it->second.state == NodeChannel::State::kLive) {
    NodeChannel& c = it->second;
    const StreamTop& top = r.value().top;
    bool same_epoch = top.epoch == c.epoch || (c.epoch.empty() && c.last == 0);
    if (same_epoch && top.offset > c.last) {
      c.held.push_back(NodeChannel::HeldRead{top.offset, loop, std::move(done), std::move(*r)});
      return;
    }
    flush_outbox(name, c);  // what the read covers reaches the loops before its answer
  }
  reply<Result<HistoryResult>>(loop, std::move(done), std::move(r));
}

void RedisBroker::release_held(NodeChannel& c, bool all) {
  if (c.held.empty()) {
    return;
  }
  std::vector<NodeChannel::HeldRead> keep;
  for (auto& h : c.held) {
    if (all || h.top <= c.last) {
      reply<Result<HistoryResult>>(h.loop, std::move(h.done), std::move(h.result));
    } else {
      keep.push_back(std::move(h));
    }
  }
  c.held.swap(keep);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions and the fan-out stream

void RedisBroker::subscribe(int loop_index, std::string_view channel, SubscribeCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    do_subscribe(loop_index, std::move(name), std::move(done));
  });
}

void RedisBroker::do_subscribe(int loop, std::string name, SubscribeCallback done) {
  if (!sub_->ready() || !cmd_->ready()) {
    reply<Result<Ok>>(loop, std::move(done),
                      Error{"redis " + options_.url.address() + " is unavailable"});
    return;
  }
  auto [it, created] = channels_.try_emplace(name);
  NodeChannel& c = it->second;
  if (created) {
    c.subscribed.assign(loops_.size(), 0);
  }
  ++c.subscribed[static_cast<size_t>(loop)];
  if (c.state == NodeChannel::State::kLive) {
    reply<Result<Ok>>(loop, std::move(done), Ok{});
    return;
  }
  c.waiting.emplace_back(loop, std::move(done));
  if (c.state == NodeChannel::State::kUnsubscribed) {
    c.state = NodeChannel::State::kSubscribing;
    send_subscribe(name, true);
  }
}

void RedisBroker::unsubscribe(int loop_index, std::string_view channel) {
  io_loop_->post([this, loop_index, name = std::string(channel)] {
    do_unsubscribe(loop_index, name);
  });
}

void RedisBroker::do_unsubscribe(int loop, const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    return;
  }
  NodeChannel& c = it->second;
  uint32_t& n = c.subscribed[static_cast<size_t>(loop)];
  if (n > 0) {
    --n;
  }
  for (uint32_t count : c.subscribed) {
    if (count != 0) {
      return;
    }
  }
  flush_outbox(name, c);
  release_held(c, true);
  if (c.state != NodeChannel::State::kUnsubscribed) {
    send_subscribe(name, false);
  }
  channels_.erase(it);
}

void RedisBroker::send_subscribe(const std::string& name, bool subscribe) {
  std::string fanout = fanout_channel(name);
  if (sub_->send({subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", fanout})) {
    ++unconfirmed_[name];
  }
}

// The last SUBSCRIBE/UNSUBSCRIBE of the channel is confirmed: if we want it, it is now in
// force, and its position is read (after it, in Redis's order).
void RedisBroker::on_confirmed(const std::string& name) {
  auto it = channels_.find(name);
  if (it != channels_.end() && it->second.state == NodeChannel::State::kSubscribing) {
    it->second.state = NodeChannel::State::kPositioning;
    read_position(name);
  }
}

void RedisBroker::read_position(const std::string& name) {
  NodeChannel& c = channels_.at(name);
  uint64_t generation = ++c.generation;
  HistoryOptions h = policy_ ? policy_(name) : HistoryOptions{};
  std::vector<std::string> args{key(name, 's'),          key(name, 'm'), key(name, 'i'),
                                key(name, 'k'),           "0",            "0",
                                "0",                      "0",            std::to_string(h.ttl_ms),
                                new_epoch(),              std::to_string(meta_ttl(h))};
  eval(shard_for(name), redis_scripts::read(), std::move(args), 4,
       [this, name, generation](Result<Reply> r) {
         on_position(name, generation,
                     r.ok() ? parse_history(r.value()) : Result<HistoryResult>(Error{r.error()}));
       });
}

void RedisBroker::on_position(const std::string& name, uint64_t generation,
                              Result<HistoryResult> r) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.generation != generation ||
      it->second.state != NodeChannel::State::kPositioning) {
    return;
  }
  NodeChannel& c = it->second;
  if (!r.ok()) {
    // The waiting subscribes fail (501); loops already live were told the stream is lost and
    // resubscribe; a new position is read when Redis is back (on_ready).
    for (auto& [loop, done] : c.waiting) {
      --c.subscribed[static_cast<size_t>(loop)];
      reply<Result<Ok>>(loop, std::move(done), Error{r.error()});
    }
    c.waiting.clear();
    for (uint32_t n : c.subscribed) {
      if (n != 0) {
        return;
      }
    }
    send_subscribe(name, false);
    channels_.erase(it);
    return;
  }
  c.epoch = r->top.epoch;
  c.last = r->top.offset;
  c.state = NodeChannel::State::kLive;
  for (auto& [loop, done] : c.waiting) {
    reply<Result<Ok>>(loop, std::move(done), Ok{});
  }
  c.waiting.clear();
  auto early = std::move(c.early);
  auto epochs = std::move(c.early_epochs);
  c.early.clear();
  c.early_epochs.clear();
  for (size_t i = 0; i < early.size(); ++i) {
    auto again = channels_.find(name);
    if (again == channels_.end() || again->second.state != NodeChannel::State::kLive) {
      return;
    }
    accept(name, again->second, std::move(early[i]), epochs[i]);
  }
}

void RedisBroker::on_push(RedisConnection& /*conn*/, resp::Reply& r) {
  if (!r.is_array() || r.elements.size() != 3) {
    return;
  }
  const std::string& kind = r.elements[0].str;
  std::string_view name = channel_of(r.elements[1].str);
  if (name.empty()) {
    return;
  }
  if (kind == "message") {
    on_message(name, r.elements[2].str);
    return;
  }
  if (kind == "subscribe" || kind == "unsubscribe") {
    auto u = unconfirmed_.find(name);
    if (u == unconfirmed_.end()) {
      return;
    }
    if (--u->second > 0) {
      return;
    }
    std::string channel(name);
    unconfirmed_.erase(u);
    on_confirmed(channel);
  }
}

void RedisBroker::on_message(std::string_view name_view, std::string_view payload) {
  auto it = channels_.find(name_view);
  if (it == channels_.end() || payload.empty()) {
    return;
  }
  const std::string& name = it->first;
  NodeChannel& c = it->second;
  if (payload[0] == 'j' || payload[0] == 'l') {
    ClientInfo who = unpack_publisher(payload.substr(1));
    if (!who.client.empty()) {
      flush_outbox(name, c);  // joins and leaves keep their place among the publications
      announce(name, who, payload[0] == 'j');
    }
    return;
  }
  if (payload[0] != 'p') {
    return;
  }
  auto rec = std::make_shared<PublicationRecord>();
  std::string epoch;
  if (!parse_publication(payload, epoch, *rec)) {
    spdlog::warn("redis broker: a malformed publication on {} was dropped", name);
    return;
  }
  if (c.state != NodeChannel::State::kLive) {
    if (c.state != NodeChannel::State::kUnsubscribed) {
      c.early.push_back(std::move(rec));
      c.early_epochs.push_back(std::move(epoch));
    }
    return;
  }
  accept(name, c, std::move(rec), epoch);
}

void RedisBroker::accept(const std::string& name, NodeChannel& c,
                         std::shared_ptr<const PublicationRecord> rec, const std::string& epoch) {
  if (c.epoch.empty() && c.last == 0) {
    c.epoch = epoch;  // the channel's first publication since we started following it
  }
  if (epoch != c.epoch || rec->offset > c.last + 1) {
    lose(name, c);
    return;
  }
  if (rec->offset <= c.last) {
    return;  // before our position, or already delivered
  }
  c.last = rec->offset;
  if (c.outbox.empty()) {
    to_flush_.push_back(name);
  }
  c.outbox_bytes += rec->data.size();
  c.outbox.push_back(std::move(rec));
  if (c.outbox.size() >= kMaxBatch || c.outbox_bytes >= kMaxBatchBytes) {
    flush_outbox(name, c);
  }
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    io_loop_->run_soon([this] { flush_outboxes(); });
  }
}

// The stream broke: what came before the break is delivered, every subscribed loop hears
// on_lost, and the channel is positioned again (publications meanwhile wait in `early`).
void RedisBroker::lose(const std::string& name, NodeChannel& c) {
  flush_outbox(name, c);
  for (size_t i = 0; i < c.subscribed.size(); ++i) {
    if (c.subscribed[i] != 0 && sinks_[i] != nullptr) {
      BrokerSink* sink = sinks_[i];
      loops_[i]->post([sink, name] { sink->on_lost(name); });
    }
  }
  release_held(c, true);
  c.early.clear();
  c.early_epochs.clear();
  c.epoch.clear();
  c.last = 0;
  c.state = NodeChannel::State::kPositioning;
  read_position(name);
}

void RedisBroker::flush_outbox(const std::string& name, NodeChannel& c) {
  if (!c.outbox.empty()) {
    auto batch = std::make_shared<const PublicationBatch>(std::move(c.outbox));
    c.outbox.clear();
    c.outbox_bytes = 0;
    for (size_t i = 0; i < c.subscribed.size(); ++i) {
      if (c.subscribed[i] == 0 || sinks_[i] == nullptr) {
        continue;
      }
      BrokerSink* sink = sinks_[i];
      loops_[i]->post(
          [sink, name, epoch = c.epoch, batch] { sink->on_publications(name, epoch, batch); });
    }
  }
  release_held(c, false);
}

void RedisBroker::flush_outboxes() {
  flush_scheduled_ = false;
  std::vector<std::string> names;
  names.swap(to_flush_);
  for (const std::string& name : names) {
    auto it = channels_.find(name);
    if (it != channels_.end()) {
      flush_outbox(name, it->second);
    }
  }
}

void RedisBroker::announce(std::string_view name, const ClientInfo& who, bool join) {
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    return;
  }
  for (size_t i = 0; i < it->second.subscribed.size(); ++i) {
    if (it->second.subscribed[i] == 0 || sinks_[i] == nullptr) {
      continue;
    }
    BrokerSink* sink = sinks_[i];
    loops_[i]->post([sink, channel = std::string(name), who, join] {
      if (join) {
        sink->on_join(channel, who);
      } else {
        sink->on_leave(channel, who);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

void RedisBroker::on_ready(RedisConnection& conn) {
  update_ready();
  if (&conn == cmd_.get()) {
    spdlog::info("redis broker: connected to {}", options_.url.address());
    // Loaded first, so that EVALSHA rarely meets NOSCRIPT (whose EVAL retry could let a later
    // publish of this node overtake an earlier one).
    for (const auto* script : {&redis_scripts::publish(), &redis_scripts::read(),
                               &redis_scripts::presence_add(), &redis_scripts::presence_remove(),
                               &redis_scripts::presence_read(),
                               &redis_scripts::presence_refresh()}) {
      conn.command({"SCRIPT", "LOAD", script->text}, nullptr);
    }
    for (auto& [name, c] : channels_) {
      if (c.state == NodeChannel::State::kPositioning) {
        read_position(name);  // one that failed while Redis was away
      }
    }
    refresh_presence();  // puts back what a restarted Redis lost
    return;
  }
  // The subscriber: every channel the node holds is subscribed again.
  for (auto& [name, c] : channels_) {
    if (c.state == NodeChannel::State::kUnsubscribed) {
      c.state = NodeChannel::State::kSubscribing;
      send_subscribe(name, true);
    }
  }
}

void RedisBroker::on_down(RedisConnection& conn, const std::string& why) {
  bool was_ready = ready_.load(std::memory_order_relaxed);
  update_ready();
  if (was_ready) {
    spdlog::warn("redis broker: {} ({}): publishes fail until it is back", why,
                 &conn == cmd_.get() ? "commands" : "subscriber");
  }
  if (&conn != sub_.get()) {
    return;
  }
  // Whatever Redis sent while we were away is gone: every stream is broken.
  unconfirmed_.clear();
  std::vector<std::string> unused;
  for (auto& [name, c] : channels_) {
    if (c.state == NodeChannel::State::kUnsubscribed) {
      continue;
    }
    for (auto& [loop, done] : c.waiting) {
      --c.subscribed[static_cast<size_t>(loop)];
      reply<Result<Ok>>(loop, std::move(done), Error{"redis: " + why});
    }
    c.waiting.clear();
    bool live = c.state == NodeChannel::State::kLive;
    flush_outbox(name, c);
    for (size_t i = 0; live && i < c.subscribed.size(); ++i) {
      if (c.subscribed[i] != 0 && sinks_[i] != nullptr) {
        BrokerSink* sink = sinks_[i];
        loops_[i]->post([sink, name = name] { sink->on_lost(name); });
      }
    }
    release_held(c, true);
    c.early.clear();
    c.early_epochs.clear();
    c.epoch.clear();
    c.last = 0;
    c.state = NodeChannel::State::kUnsubscribed;
    bool any = false;
    for (uint32_t n : c.subscribed) {
      any = any || n != 0;
    }
    if (!any) {
      unused.push_back(name);
    }
  }
  for (const std::string& name : unused) {
    channels_.erase(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Presence

void RedisBroker::presence_add(int loop_index, std::string_view channel, ClientInfo who,
                               bool announce_it, size_t limit, AddedCallback done) {
  io_loop_->post([this, loop_index, announce_it, limit, name = std::string(channel),
                  who = std::move(who), done = std::move(done)]() mutable {
    RedisConnection& conn = shard_for(name);
    if (!conn.ready()) {
      reply<Result<bool>>(loop_index, std::move(done),
                          Error{"redis " + options_.url.address() + " is unavailable"});
      return;
    }
    std::string packed = pack_client(who);
    // Renewed from now on, unless Redis refuses it; recorded before the answer so that a remove
    // posted meanwhile (it runs before the answer comes) is not undone by it.
    members_[name][who.client] = packed;
    std::vector<std::string> args{key(name, 'p'),
                                  key(name, 'q'),
                                  who.client,
                                  packed,
                                  std::to_string(limit),
                                  std::to_string(options_.presence_lease_ms),
                                  fanout_channel(name),
                                  announce_it ? "1" : "0"};
    eval(conn, redis_scripts::presence_add(), std::move(args), 2,
         [this, loop_index, name, client = who.client, done = std::move(done)](
             Result<Reply> r) mutable {
           bool added = r.ok() && r->type == Type::kInteger && r->integer == 1;
           if (!added) {
             forget_member(name, client);
           }
           if (!r.ok()) {
             reply<Result<bool>>(loop_index, std::move(done), Error{r.error()});
             return;
           }
           if (r->type != Type::kInteger) {
             reply<Result<bool>>(loop_index, std::move(done), bad_reply("presence add", *r));
             return;
           }
           reply<Result<bool>>(loop_index, std::move(done), Result<bool>(added));
         });
  });
}

void RedisBroker::presence_remove(int /*loop_index*/, std::string_view channel,
                                  std::string_view client, bool announce_it) {
  io_loop_->post([this, announce_it, name = std::string(channel), client = std::string(client)] {
    forget_member(name, client);
    // While Redis is away the member stays there until its lease ends.
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), client, fanout_channel(name),
                                  announce_it ? "1" : "0"};
    eval(shard_for(name), redis_scripts::presence_remove(), std::move(args), 2, nullptr);
  });
}

void RedisBroker::presence(int loop_index, std::string_view channel, PresenceCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "list"};
    eval(shard_for(name), redis_scripts::presence_read(), std::move(args), 2,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok() || !r->is_array()) {
             reply<Result<std::vector<ClientInfo>>>(
                 loop_index, std::move(done),
                 r.ok() ? bad_reply("presence", *r) : Error{r.error()});
             return;
           }
           std::vector<ClientInfo> clients;
           for (const Reply& e : r->elements) {
             ClientInfo who = unpack_publisher(e.str);
             if (!who.client.empty()) {
               clients.push_back(std::move(who));
             }
           }
           reply<Result<std::vector<ClientInfo>>>(loop_index, std::move(done), std::move(clients));
         });
  });
}

void RedisBroker::presence_stats(int loop_index, std::string_view channel,
                                 PresenceStatsCallback done) {
  io_loop_->post([this, loop_index, name = std::string(channel), done = std::move(done)]() mutable {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'), "stats"};
    eval(shard_for(name), redis_scripts::presence_read(), std::move(args), 2,
         [this, loop_index, done = std::move(done)](Result<Reply> r) mutable {
           if (!r.ok() || !r->is_array() || r->elements.size() != 2) {
             reply<Result<PresenceStats>>(loop_index, std::move(done),
                                          r.ok() ? bad_reply("presence_stats", *r)
                                                 : Error{r.error()});
             return;
           }
           PresenceStats stats{reply_u64(r->elements[0]), reply_u64(r->elements[1])};
           reply<Result<PresenceStats>>(loop_index, std::move(done), stats);
         });
  });
}

void RedisBroker::forget_member(const std::string& name, const std::string& client) {
  if (auto m = members_.find(name); m != members_.end()) {
    m->second.erase(client);
    if (m->second.empty()) {
      members_.erase(m);
    }
  }
}

void RedisBroker::refresh_presence() {
  if (!cmd_->ready()) {
    return;
  }
  for (const auto& [name, clients] : members_) {
    std::vector<std::string> args{key(name, 'p'), key(name, 'q'),
                                  std::to_string(options_.presence_lease_ms)};
    for (const auto& [client, packed] : clients) {
      args.push_back(client);
      args.push_back(packed);
    }
    eval(shard_for(name), redis_scripts::presence_refresh(), std::move(args), 2, nullptr);
  }
}

}  // namespace herald::broker
