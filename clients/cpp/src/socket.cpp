#include "herald/client/socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace herald::client {
namespace {
// A burst's output should not stay pinned on each of thousands of idle sockets.
constexpr size_t kKeepCapacity = 64 * 1024;
// Reads per readiness event before yielding to the other sockets of the loop.
constexpr int kReadsPerEvent = 4;

void release(std::string& buf, size_t& pos) {
  buf.clear();
  pos = 0;
  if (buf.capacity() > kKeepCapacity) {
    buf.shrink_to_fit();
  }
}
}  // namespace

Socket::~Socket() {
  close();
}

bool Socket::connect(const Endpoint& to, const TlsClientContext* tls, std::string_view host,
                     std::string_view alpn) {
  close();
  if (tls != nullptr) {
    tls_ = TlsClientSession::create(*tls, host, alpn);
    if (tls_ == nullptr) {
      last_errno_ = ENOMEM;
      return false;
    }
  }
  fd_ = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    last_errno_ = errno;
    tls_.reset();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) != 0 &&
      errno != EINPROGRESS) {
    last_errno_ = errno;
    close();
    return false;
  }
  interest_ = EPOLLOUT;
  if (!loop_.watch(fd_, this, interest_)) {
    last_errno_ = errno;
    close();
    return false;
  }
  state_ = State::kConnecting;
  return true;
}

std::string& Socket::output() {
  if (out_pos_ > 0 && out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
  return out_;
}

void Socket::mark_dirty() {
  if (fd_ >= 0) {
    loop_.mark_dirty(this);
  }
}

void Socket::shutdown_write() {
  shutdown_wanted_ = true;
  mark_dirty();
}

void Socket::close() {
  if (fd_ < 0 && tls_ == nullptr) {
    return;
  }
  loop_.forget(this);
  if (fd_ >= 0) {
    ::close(fd_);  // also leaves the epoll set
  }
  fd_ = -1;
  ++generation_;
  state_ = State::kClosed;
  shutdown_wanted_ = false;
  shutdown_done_ = false;
  interest_ = 0;
  release(out_, out_pos_);
  release(cipher_, cipher_pos_);
  tls_.reset();
}

void Socket::end(SocketEnd::Kind kind, int err) {
  if (fd_ < 0) {
    return;
  }
  std::string tls_error;
  if (kind == SocketEnd::Kind::kTlsFailed && tls_ != nullptr) {
    tls_error = tls_->error();
    if (cipher_pos_ < cipher_.size()) {
      // Best effort: the alert OpenSSL wrote tells the server why.
      ::send(fd_, cipher_.data() + cipher_pos_, cipher_.size() - cipher_pos_,
             MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  last_errno_ = err;
  close();
  SocketEnd e;
  e.kind = kind;
  e.sys_errno = err;
  e.tls_error = tls_error;
  owner_.on_socket_end(*this, e);
}

void Socket::handle_events(uint32_t events) {
  if (fd_ < 0) {
    return;
  }
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      on_connect_done();
    }
    return;
  }
  uint32_t generation = generation_;
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
    char* buf = loop_.read_buffer();
    size_t cap = loop_.read_buffer_size();
    for (int round = 0; round < kReadsPerEvent; ++round) {
      ssize_t n = ::recv(fd_, buf, cap, 0);
      if (n > 0) {
        std::string_view data(buf, static_cast<size_t>(n));
        if (tls_ != nullptr) {
          on_ciphertext(data);
        } else {
          owner_.on_socket_data(*this, data);
        }
        if (generation != generation_ || static_cast<size_t>(n) < cap) {
          break;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      }
      if (n == 0) {
        end(SocketEnd::Kind::kEof, 0);
      } else {
        end(SocketEnd::Kind::kError, errno);
      }
      return;
    }
  }
  if (generation == generation_ && (events & EPOLLOUT) != 0) {
    flush();
  }
}

void Socket::on_connect_done() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err != 0) {
    end(SocketEnd::Kind::kConnectFailed, err);
    return;
  }
  if (tls_ != nullptr) {
    state_ = State::kTlsHandshake;
    if (tls_->start(cipher_) == TlsClientSession::Status::kError) {
      end(SocketEnd::Kind::kTlsFailed, 0);
      return;
    }
    flush();  // the ClientHello
    return;
  }
  state_ = State::kOpen;
  uint32_t generation = generation_;
  owner_.on_socket_open(*this);
  if (generation == generation_) {
    flush();
  }
}

void Socket::on_ciphertext(std::string_view data) {
  std::string& plain = loop_.plain_buffer();
  plain.clear();
  if (cipher_pos_ > 0 && cipher_pos_ == cipher_.size()) {
    cipher_.clear();
    cipher_pos_ = 0;
  }
  size_t cipher_before = cipher_.size();
  TlsClientSession::Status status = tls_->feed(data, plain, cipher_);
  if (status == TlsClientSession::Status::kError) {
    end(SocketEnd::Kind::kTlsFailed, 0);
    return;
  }
  if (cipher_.size() != cipher_before) {
    mark_dirty();  // handshake messages, or an answer to a key update
  }
  uint32_t generation = generation_;
  if (state_ == State::kTlsHandshake && tls_->handshake_done()) {
    state_ = State::kOpen;
    owner_.on_socket_open(*this);
    if (generation != generation_) {
      return;
    }
    mark_dirty();  // what was queued before the handshake ended goes out now
  }
  if (!plain.empty()) {
    owner_.on_socket_data(*this, plain);
    if (generation != generation_) {
      return;
    }
  }
  if (status == TlsClientSession::Status::kClosed) {
    end(SocketEnd::Kind::kEof, 0);
  }
}

bool Socket::send_from(std::string& buf, size_t& pos) {
  while (pos < buf.size()) {
    ssize_t n = ::send(fd_, buf.data() + pos, buf.size() - pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    end(SocketEnd::Kind::kError, errno);
    return false;
  }
  release(buf, pos);
  return true;
}

void Socket::flush() {
  if (fd_ < 0 || state_ == State::kConnecting) {
    return;
  }
  bool all_out = false;
  if (tls_ != nullptr) {
    if (tls_->handshake_done() && out_pos_ < out_.size()) {
      std::string_view plain(out_.data() + out_pos_, out_.size() - out_pos_);
      if (tls_->encrypt(plain, cipher_) == TlsClientSession::Status::kError) {
        end(SocketEnd::Kind::kTlsFailed, 0);
        return;
      }
      release(out_, out_pos_);
    }
    if (shutdown_wanted_ && out_.empty() && state_ == State::kOpen) {
      tls_->close_notify(cipher_);  // once
    }
    if (!send_from(cipher_, cipher_pos_)) {
      return;
    }
    all_out = out_.empty() && cipher_.empty();
  } else {
    if (state_ == State::kOpen && !send_from(out_, out_pos_)) {
      return;
    }
    all_out = out_.empty();
  }
  if (all_out && shutdown_wanted_ && !shutdown_done_ && state_ == State::kOpen) {
    shutdown_done_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
  update_interest();
}

void Socket::update_interest() {
  uint32_t want = EPOLLIN | EPOLLRDHUP;
  if (buffered() > 0 && (state_ == State::kOpen || cipher_pos_ < cipher_.size())) {
    want |= EPOLLOUT;
  }
  if (want != interest_) {
    interest_ = want;
    loop_.modify(fd_, this, interest_);
  }
}

}  // namespace herald::client
