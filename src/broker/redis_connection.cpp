#include "broker/redis_connection.h"

#include <algorithm>
#include <chrono>

namespace herald::broker {
namespace {

constexpr uint32_t kTickMs = 100;  // deadlines are checked this often (the wheel's resolution)

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RedisFailure classify_error(std::string_view error) {
  if (error.rfind("MOVED ", 0) == 0 || error.rfind("ASK ", 0) == 0) {
    return RedisFailure::kRedirected;
  }
  if (error.rfind("NOSCRIPT", 0) == 0) {
    return RedisFailure::kNoScript;
  }
  return RedisFailure::kErrorReply;
}

}  // namespace

RedisConnection::RedisConnection(net::EventLoop& loop, Options options, Listener* listener)
    : loop_(loop),
      options_(std::move(options)),
      metrics_(options_.metrics != nullptr ? *options_.metrics : RedisMetrics::discarded()),
      role_(static_cast<size_t>(options_.subscriber ? RedisRole::kSubscriber
                                                    : RedisRole::kCommand)),
      listener_(listener),
      socket_(loop, *this) {}

RedisConnection::~RedisConnection() {
  Timer::cancel();
  close_socket();
}

void RedisConnection::start() {
  if (state_ != State::kIdle) {
    return;
  }
  metrics_.connections[role_].add();
  connect_now();
  arm_tick();
}

void RedisConnection::stop() {
  if (state_ == State::kStopped) {
    return;
  }
  bool started = state_ != State::kIdle;
  fail("stopped");
  state_ = State::kStopped;
  Timer::cancel();
  if (started) {
    metrics_.connections[role_].sub();
  }
}

void RedisConnection::arm_tick() {
  loop_.timers().arm(*this, loop_.now_ms(), kTickMs);
}

void RedisConnection::close_socket() {
  socket_.close();
  parser_.reset();
}

void RedisConnection::connect_now() {
  close_socket();
  state_ = State::kConnecting;
  deadline_ms_ = loop_.now_ms() + options_.connect_timeout_ms;
  if (options_.url.tls && options_.tls == nullptr) {
    fail("rediss:// without a TLS configuration");
    return;
  }
  // Blocking name resolution: this loop carries only Redis traffic, and a numeric address (the
  // usual configuration) resolves without a lookup.
  if (!socket_.connect(options_.url.host, options_.url.port,
                       options_.url.tls ? options_.tls.get() : nullptr)) {
    fail(socket_.error());
  }
}

void RedisConnection::on_open(net::ClientSocket& /*socket*/) {
  if (state_ == State::kConnecting) {
    begin_handshake();  // connected (rediss://: the server's certificate was accepted)
  }
}

void RedisConnection::on_data(net::ClientSocket& /*socket*/, const uint8_t* data, size_t size) {
  replies_.clear();
  resp::RespError err =
      parser_.feed(std::string_view(reinterpret_cast<const char*>(data), size), replies_);
  std::vector<resp::Reply> replies;
  replies.swap(replies_);
  dispatch(replies);  // the replies before a bad byte are good
  if (err != resp::RespError::kNone && socket_live()) {
    fail(std::string("bad reply: ") + resp::describe(err));
  }
}

void RedisConnection::on_closed(net::ClientSocket& /*socket*/, net::ClientSocket::End /*end*/,
                                const std::string& why) {
  // A refused certificate ("TLS handshake failed: certificate verify failed: ..."), a refused
  // connect, a reset: all one failed connection, retried with backoff.
  fail(why);
}

void RedisConnection::write_command(const std::vector<std::string_view>& args) {
  command_.clear();
  resp::append_command(command_, args);
  socket_.write(command_);
}

void RedisConnection::begin_handshake() {
  state_ = State::kHandshake;
  handshake_left_ = 0;
  if (!options_.url.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!options_.url.user.empty()) {
      auth.push_back(options_.url.user);
    }
    auth.push_back(options_.url.password);
    write_command(auth);
    ++handshake_left_;
  }
  if (options_.url.db != 0) {
    std::string db = std::to_string(options_.url.db);
    write_command({"SELECT", db});
    ++handshake_left_;
  }
  write_command({"PING"});  // proves Redis answers, not just its kernel
  ++handshake_left_;
}

void RedisConnection::fail(const std::string& why, RedisFailure reason) {
  if (state_ == State::kStopped) {
    return;
  }
  if (state_ == State::kReady) {
    metrics_.connections_up[role_].sub();
  } else if (state_ != State::kWaiting && state_ != State::kIdle && why != "stopped") {
    metrics_.connect_failures[role_].add();
  }
  close_socket();
  std::deque<Pending> pending;
  pending.swap(pending_);
  ping_sent_ms_ = 0;
  schedule_retry();
  for (Pending& p : pending) {
    metrics_.in_flight.sub();
    metrics_.failure(reason).add();
    if (p.done) {
      p.done(Error{"redis " + options_.url.address() + ": " + why});
    }
  }
  if (listener_ != nullptr) {
    listener_->on_down(*this, why);
  }
}

void RedisConnection::schedule_retry() {
  if (was_ready_) {
    backoff_ms_ = 0;  // the first retry after a working connection is quick
    was_ready_ = false;
  }
  backoff_ms_ = backoff_ms_ == 0 ? options_.backoff_min_ms
                                 : std::min(backoff_ms_ * 2, options_.backoff_max_ms);
  // Full jitter: nodes that lost Redis together do not come back in step.
  uint32_t wait = std::uniform_int_distribution<uint32_t>(0, backoff_ms_)(rng_);
  state_ = State::kWaiting;
  deadline_ms_ = loop_.now_ms() + wait;
}

void RedisConnection::on_timer() {
  uint64_t now = loop_.now_ms();
  switch (state_) {
    case State::kWaiting:
      if (now >= deadline_ms_) {
        connect_now();
      }
      break;
    case State::kConnecting:
    case State::kHandshake:
      if (now >= deadline_ms_) {
        bool tls = socket_.phase() == net::ClientSocket::Phase::kTlsHandshake;
        fail(state_ == State::kHandshake ? "no answer to the handshake"
             : tls                       ? "TLS handshake timed out"
                                         : "connect timed out");
      }
      break;
    case State::kReady:
      if (!pending_.empty() && now - pending_.front().sent_ms >= options_.command_timeout_ms) {
        fail("no reply within " + std::to_string(options_.command_timeout_ms) + " ms",
             RedisFailure::kTimeout);
        break;
      }
      if (options_.subscriber) {
        if (ping_sent_ms_ != 0 && now - ping_sent_ms_ >= options_.command_timeout_ms) {
          fail("no PONG within " + std::to_string(options_.command_timeout_ms) + " ms");
          break;
        }
        if (ping_sent_ms_ == 0 && now - last_ping_ms_ >= options_.ping_interval_ms) {
          write_command({"PING"});
          ping_sent_ms_ = now;
          last_ping_ms_ = now;
        }
      }
      break;
    case State::kIdle:
    case State::kStopped:
      return;
  }
  if (state_ != State::kStopped) {
    arm_tick();
  }
}

void RedisConnection::command(const std::vector<std::string_view>& args, Callback done) {
  if (state_ != State::kReady) {
    metrics_.failure(RedisFailure::kNotConnected).add();
    if (done) {
      loop_.run_soon([done = std::move(done), addr = options_.url.address()] {
        done(Error{"redis " + addr + " is not connected"});
      });
    }
    return;
  }
  queue(args, std::move(done));
}

bool RedisConnection::send(const std::vector<std::string_view>& args) {
  if (state_ != State::kReady) {
    return false;
  }
  write_command(args);
  metrics_.commands[role_].add();
  return true;
}

void RedisConnection::queue(const std::vector<std::string_view>& args, Callback done) {
  write_command(args);
  pending_.push_back(Pending{std::move(done), loop_.now_ms(), steady_ns()});
  metrics_.commands[role_].add();
  metrics_.in_flight.add();
}

void RedisConnection::dispatch(std::vector<resp::Reply>& replies) {
  int64_t now_ns = 0;
  for (resp::Reply& reply : replies) {
    if (!socket_live()) {
      return;  // a callback failed or stopped the connection
    }
    if (state_ == State::kHandshake) {
      if (reply.is_error()) {
        fail("handshake: " + reply.str);
        return;
      }
      if (--handshake_left_ == 0) {
        state_ = State::kReady;
        backoff_ms_ = 0;
        was_ready_ = true;
        metrics_.connections_up[role_].add();
        if (connects_ > 0) {
          metrics_.reconnects[role_].add();
        }
        ++connects_;
        last_ping_ms_ = loop_.now_ms();
        if (listener_ != nullptr) {
          listener_->on_ready(*this);
        }
      }
      continue;
    }
    if (options_.subscriber) {
      bool pong = (reply.type == resp::Type::kSimpleString && reply.str == "PONG") ||
                  (reply.is_array() && !reply.elements.empty() && reply.elements[0].str == "pong");
      if (pong) {
        ping_sent_ms_ = 0;
        continue;
      }
      if (listener_ != nullptr) {
        listener_->on_push(*this, reply);
      }
      continue;
    }
    if (pending_.empty()) {
      fail("a reply nobody asked for");
      return;
    }
    Callback done = std::move(pending_.front().done);
    if (now_ns == 0) {
      now_ns = steady_ns();  // one clock read per batch of replies
    }
    metrics_.round_trip.observe_ns(
        static_cast<uint64_t>(std::max<int64_t>(0, now_ns - pending_.front().sent_ns)));
    metrics_.in_flight.sub();
    if (reply.is_error()) {
      metrics_.failure(classify_error(reply.str)).add();
    }
    pending_.pop_front();
    if (done) {
      done(std::move(reply));
    }
  }
}

}  // namespace herald::broker
