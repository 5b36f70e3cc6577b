#include "net/client_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace herald::net {

const char* describe(ClientSocket::End end) {
  switch (end) {
    case ClientSocket::End::kPeerClosed:
      return "peer closed";
    case ClientSocket::End::kConnect:
      return "connect";
    case ClientSocket::End::kTlsHandshake:
      return "tls handshake";
    case ClientSocket::End::kTls:
      return "tls";
    case ClientSocket::End::kIo:
      return "io";
  }
  return "?";
}

ClientSocket::~ClientSocket() { close_fd(); }

bool ClientSocket::connect(const std::string& host, uint16_t port, const TlsContext* tls) {
  close_fd();
  bool v6 = host.find(':') != std::string::npos;
  peer_ = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  error_.clear();
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    error_ = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  int err = errno;
  freeaddrinfo(found);
  if (rc != 0 && err != EINPROGRESS) {
    ::close(fd);
    error_ = "connect to " + peer_ + ": " + std::strerror(err);
    return false;
  }
  if (tls != nullptr) {
    // Made now, so that the owner's context may go away while the connect runs (the session
    // keeps its own reference to it).
    tls_ = TlsSession::create_client(*tls, loop_, host);
    if (tls_ == nullptr) {
      ::close(fd);
      error_ = "TLS: cannot start a session for " + host;
      return false;
    }
  }
  if (!loop_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
    ::close(fd);
    tls_.reset();
    error_ = "epoll_ctl failed";
    return false;
  }
  fd_ = fd;
  want_write_ = true;  // the connect's completion
  phase_ = Phase::kConnecting;
  return true;
}

void ClientSocket::write(std::string_view bytes) {
  if (fd_ < 0) {
    return;
  }
  out_.append(bytes);
  if (phase_ == Phase::kOpen) {
    loop_.defer_flush(this, flush_scheduled_);
  }
}

void ClientSocket::close() {
  if (fd_ >= 0 && tls_ != nullptr && tls_->handshake_done() && tls_->close_notify()) {
    std::string_view alert = tls_->output();
    (void)::send(fd_, alert.data(), alert.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  close_fd();
}

void ClientSocket::close_fd() {
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
    ++generation_;
  }
  phase_ = Phase::kClosed;
  want_write_ = false;
  out_.clear();
  tls_.reset();
}

void ClientSocket::end(End end, const std::string& why) {
  close_fd();
  listener_.on_closed(*this, end, why);
}

std::string ClientSocket::tls_version() const {
  return tls_ != nullptr && tls_->handshake_done() ? tls_->version() : "";
}

void ClientSocket::on_flush() {
  if (fd_ >= 0 && phase_ == Phase::kOpen && !want_write_) {
    write_out();
  }
}

void ClientSocket::on_io(uint32_t events) {
  if (fd_ < 0) {
    return;
  }
  if (phase_ == Phase::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
      return;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      err = errno;
    }
    if (err != 0) {
      end(End::kConnect, "connect to " + peer_ + ": " + std::strerror(err));
      return;
    }
    connected();
    return;
  }
  uint64_t generation = generation_;
  if ((events & EPOLLOUT) != 0) {
    write_out();
    if (generation != generation_) {
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    read_ready();
  }
}

void ClientSocket::connected() {
  if (tls_ != nullptr) {
    phase_ = Phase::kTlsHandshake;
    tls_input(nullptr, 0);  // the ClientHello
    return;
  }
  phase_ = Phase::kOpen;
  uint64_t generation = generation_;
  listener_.on_open(*this);
  if (generation == generation_) {
    write_out();  // what was written while connecting
  }
}

void ClientSocket::read_ready() {
  uint64_t generation = generation_;
  while (generation == generation_) {
    // TLS: ciphertext lands in the loop's TLS buffer and is decrypted into its read buffer.
    std::vector<uint8_t>& buf = tls_ != nullptr ? loop_.tls_read_buffer() : loop_.read_buffer();
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    bool handshake = phase_ == Phase::kTlsHandshake;
    if (n <= 0) {
      std::string why =
          n == 0 ? "closed by the peer" : std::string("read: ") + std::strerror(errno);
      if (handshake) {
        end(End::kTlsHandshake, "TLS handshake failed: " + why);
      } else {
        end(n == 0 ? End::kPeerClosed : End::kIo, why);
      }
      return;
    }
    if (tls_ != nullptr) {
      tls_input(buf.data(), static_cast<size_t>(n));
    } else {
      listener_.on_data(*this, buf.data(), static_cast<size_t>(n));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      return;  // drained; level-triggered epoll tells us when there is more
    }
  }
}

void ClientSocket::tls_input(const uint8_t* data, size_t size) {
  uint64_t generation = generation_;
  std::vector<uint8_t>& plain = loop_.read_buffer();
  tls_->give_input(data, size);
  for (;;) {
    TlsSession::ReadResult r = tls_->read(plain.data(), plain.size());
    if (phase_ == Phase::kTlsHandshake && tls_->handshake_done()) {
      // The peer's certificate was accepted. What the owner wrote so far goes out below.
      phase_ = Phase::kOpen;
      listener_.on_open(*this);
      if (generation != generation_) {
        return;
      }
    }
    if (r.bytes > 0) {
      listener_.on_data(*this, plain.data(), r.bytes);
      if (generation != generation_) {
        return;  // the owner closed (or reconnected) the socket
      }
    }
    if (r.status == TlsSession::Status::kOk) {
      continue;  // more plaintext than the buffer held
    }
    if (r.status == TlsSession::Status::kClosed) {
      end(End::kPeerClosed, "closed by the peer (TLS close_notify)");
      return;
    }
    if (r.status == TlsSession::Status::kError) {
      bool handshake = phase_ == Phase::kTlsHandshake;
      std::string why = (handshake ? "TLS handshake failed: " : "TLS: ") + tls_->failure();
      std::string_view alert = tls_->output();  // tell the peer why, if the socket takes it
      (void)::send(fd_, alert.data(), alert.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      end(handshake ? End::kTlsHandshake : End::kTls, why);
      return;
    }
    break;  // kWantRead: every byte given was consumed
  }
  write_out();  // handshake messages, and what the owner queued
}

void ClientSocket::write_out() {
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
        end(End::kTls, "TLS: " + tls_->failure());
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
    want = tls_->output_size() > 0 || (!out_.empty() && tls_->handshake_done());
  } else if (phase_ == Phase::kOpen) {
    size_t sent = 0;
    if (!send_bytes(out_, sent)) {
      return;
    }
    out_.erase(0, sent);
    want = !out_.empty();
  }
  set_want_write(want);
}

bool ClientSocket::send_bytes(std::string_view bytes, size_t& sent) {
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
      std::string why = std::string("write: ") + std::strerror(errno);
      if (phase_ == Phase::kTlsHandshake) {
        end(End::kTlsHandshake, "TLS handshake failed: " + why);
      } else {
        end(End::kIo, why);
      }
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

void ClientSocket::set_want_write(bool want) {
  if (fd_ >= 0 && want != want_write_) {
    want_write_ = want;
    loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u), this);
  }
}

}  // namespace herald::net
