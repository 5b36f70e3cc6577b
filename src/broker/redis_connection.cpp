#include "broker/redis_connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

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
      listener_(listener) {}

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
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  want_write_ = false;
  out_.clear();
  tls_.reset();
  parser_.reset();
}

void RedisConnection::connect_now() {
  close_socket();
  state_ = State::kConnecting;
  deadline_ms_ = loop_.now_ms() + options_.connect_timeout_ms;
  // Blocking name resolution: this loop carries only Redis traffic, and a numeric address (the
  // usual configuration) resolves without a lookup.
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  std::string port = std::to_string(options_.url.port);
  if (int rc = getaddrinfo(options_.url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    fail(std::string("cannot resolve ") + options_.url.host + ": " + gai_strerror(rc));
    return;
  }
  fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    freeaddrinfo(found);
    fail(std::string("socket: ") + std::strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = ::connect(fd_, found->ai_addr, found->ai_addrlen);
  int err = errno;
  freeaddrinfo(found);
  if (rc != 0 && err != EINPROGRESS) {
    fail(std::string("connect to ") + options_.url.address() + ": " + std::strerror(err));
    return;
  }
  want_write_ = true;
  if (!loop_.add(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
    fail("epoll_ctl failed");
  }
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
    resp::append_command(out_, auth);
    ++handshake_left_;
  }
  if (options_.url.db != 0) {
    std::string db = std::to_string(options_.url.db);
    resp::append_command(out_, {"SELECT", db});
    ++handshake_left_;
  }
  resp::append_command(out_, {"PING"});  // proves Redis answers, not just its kernel
  ++handshake_left_;
  write_out();
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
    case State::kTls:
    case State::kHandshake:
      if (now >= deadline_ms_) {
        fail(state_ == State::kConnecting ? "connect timed out"
             : state_ == State::kTls      ? "TLS handshake timed out"
                                          : "no answer to the handshake");
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
          resp::append_command(out_, {"PING"});
          ping_sent_ms_ = now;
          last_ping_ms_ = now;
          loop_.defer_flush(this, flush_scheduled_);
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
  resp::append_command(out_, args);
  metrics_.commands[role_].add();
  loop_.defer_flush(this, flush_scheduled_);
  return true;
}

void RedisConnection::queue(const std::vector<std::string_view>& args, Callback done) {
  resp::append_command(out_, args);
  pending_.push_back(Pending{std::move(done), loop_.now_ms(), steady_ns()});
  metrics_.commands[role_].add();
  metrics_.in_flight.add();
  loop_.defer_flush(this, flush_scheduled_);
}

void RedisConnection::on_flush() {
  if (fd_ >= 0 && !want_write_ && (state_ == State::kReady || state_ == State::kHandshake)) {
    write_out();
  }
}

void RedisConnection::write_out() {
  if (fd_ < 0) {
    return;
  }
  bool want = false;
  if (tls_ != nullptr) {
    if (!out_.empty() && tls_->handshake_done()) {
      iovec piece{out_.data(), out_.size()};
      size_t taken = tls_->encrypt(&piece, 1, out_.size());
      tls_->finish_records();
      if (tls_->failed()) {
        fail("TLS: " + tls_->failure());
        return;
      }
      out_.erase(0, taken);
    }
    while (tls_->output_size() > 0) {
      size_t sent = 0;
      if (!send_bytes(tls_->output(), sent)) {
        return;
      }
      size_t size = tls_->output_size();
      tls_->consume_output(sent);
      if (sent < size) {
        break;
      }
    }
    want = tls_->output_size() > 0;
  } else {
    size_t sent = 0;
    if (!send_bytes(out_, sent)) {
      return;
    }
    out_.erase(0, sent);
    want = !out_.empty();
  }
  if (want != want_write_) {
    want_write_ = want;
    loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u), this);
  }
}

// Sends what the socket takes now; false when the connection failed (and was closed).
bool RedisConnection::send_bytes(std::string_view bytes, size_t& sent) {
  sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return true;
      }
      if (errno == EINTR) {
        continue;
      }
      fail(std::string("write: ") + std::strerror(errno));
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

void RedisConnection::on_io(uint32_t events) {
  if (fd_ < 0) {
    return;
  }
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
      return;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail("connect to " + options_.url.address() + ": " + std::strerror(err));
      return;
    }
    connected();
    return;
  }
  if ((events & EPOLLOUT) != 0) {
    write_out();
    if (fd_ < 0) {
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    read_ready();
  }
}

void RedisConnection::connected() {
  if (!options_.url.tls) {
    begin_handshake();
    return;
  }
  if (options_.tls == nullptr) {
    fail("rediss:// without a TLS configuration");
    return;
  }
  tls_ = net::TlsSession::create_client(*options_.tls, loop_, options_.url.host);
  if (tls_ == nullptr) {
    fail("TLS: cannot start a session for " + options_.url.host);
    return;
  }
  state_ = State::kTls;
  on_tls_bytes(nullptr, 0);  // the ClientHello
}

void RedisConnection::read_ready() {
  while (fd_ >= 0) {
    // TLS: ciphertext lands in the loop's TLS buffer and is decrypted into its read buffer.
    std::vector<uint8_t>& buf = tls_ != nullptr ? loop_.tls_read_buffer() : loop_.read_buffer();
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n == 0) {
      fail("closed by the server");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      if (errno == EINTR) {
        continue;
      }
      fail(std::string("read: ") + std::strerror(errno));
      return;
    }
    if (tls_ != nullptr) {
      on_tls_bytes(buf.data(), static_cast<size_t>(n));
    } else {
      on_bytes(buf.data(), static_cast<size_t>(n));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      return;  // drained; level-triggered epoll tells us when there is more
    }
  }
}

void RedisConnection::on_tls_bytes(const uint8_t* data, size_t size) {
  std::vector<uint8_t>& plain = loop_.read_buffer();
  tls_->give_input(data, size);
  for (;;) {
    net::TlsSession::ReadResult r = tls_->read(plain.data(), plain.size());
    if (state_ == State::kTls && tls_->handshake_done()) {
      begin_handshake();  // the server's certificate was accepted: AUTH/SELECT/PING
      if (fd_ < 0) {
        return;
      }
    }
    if (r.bytes > 0) {
      on_bytes(plain.data(), r.bytes);
      if (fd_ < 0) {
        return;  // a callback failed or stopped the connection
      }
    }
    if (r.status == net::TlsSession::Status::kOk) {
      continue;  // more plaintext than the buffer held
    }
    if (r.status == net::TlsSession::Status::kClosed) {
      fail("closed by the server (TLS close_notify)");
      return;
    }
    if (r.status == net::TlsSession::Status::kError) {
      std::string why = tls_->failure();
      size_t sent = 0;
      send_bytes(tls_->output(), sent);  // the alert, if the socket takes it
      if (fd_ >= 0) {
        // TLS 1.3: a server that refuses our certificate says so after our Finished, i.e. while
        // the Redis handshake has begun; it is still the TLS handshake that failed.
        bool handshake = state_ == State::kTls || state_ == State::kHandshake;
        fail(std::string(handshake ? "TLS handshake failed: " : "TLS: ") + why);
      }
      return;
    }
    break;  // kWantRead: every byte given was consumed
  }
  write_out();  // handshake messages, and what begin_handshake() queued
}

void RedisConnection::on_bytes(const uint8_t* data, size_t size) {
  replies_.clear();
  resp::RespError err =
      parser_.feed(std::string_view(reinterpret_cast<const char*>(data), size), replies_);
  std::vector<resp::Reply> replies;
  replies.swap(replies_);
  dispatch(replies);  // the replies before a bad byte are good
  if (err != resp::RespError::kNone && fd_ >= 0) {
    fail(std::string("bad reply: ") + resp::describe(err));
  }
}

void RedisConnection::dispatch(std::vector<resp::Reply>& replies) {
  int64_t now_ns = 0;
  for (resp::Reply& reply : replies) {
    if (fd_ < 0) {
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
