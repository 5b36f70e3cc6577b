#include "link_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace herald::bench {
namespace {
// A burst's output should not stay pinned on each of thousands of idle sockets.
constexpr size_t kKeepCapacity = 64 * 1024;
// Reads per readiness event before yielding to the other sockets of the loop.
constexpr int kReadsPerEvent = 4;
}  // namespace

LinkSocket::~LinkSocket() {
  close();
}

bool LinkSocket::connect(const client::Endpoint& to) {
  close();
  fd_ = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    last_errno_ = errno;
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to.addr), to.len) != 0 &&
      errno != EINPROGRESS) {
    last_errno_ = errno;
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  interest_ = EPOLLOUT;
  if (!loop_.watch(fd_, this, interest_)) {
    last_errno_ = errno;
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

void LinkSocket::write(std::string_view bytes) {
  if (fd_ < 0) {
    return;
  }
  out_.append(bytes);
  if (connected_) {
    loop_.mark_dirty(this);
  }
}

void LinkSocket::shutdown_write() {
  shutdown_wanted_ = true;
  if (connected_) {
    loop_.mark_dirty(this);
  }
}

void LinkSocket::close() {
  if (fd_ < 0) {
    return;
  }
  loop_.forget(this);
  ::close(fd_);  // also leaves the epoll set
  fd_ = -1;
  ++generation_;
  connected_ = false;
  shutdown_wanted_ = false;
  shutdown_done_ = false;
  interest_ = 0;
  out_.clear();
  out_pos_ = 0;
  if (out_.capacity() > kKeepCapacity) {
    out_.shrink_to_fit();
  }
}

void LinkSocket::fail(int err) {
  last_errno_ = err;
  close();
  owner_.on_socket_closed(*this, err);
}

void LinkSocket::handle_events(uint32_t events) {
  if (fd_ < 0) {
    return;
  }
  if (!connected_) {
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
        owner_.on_socket_data(*this, std::string_view(buf, static_cast<size_t>(n)));
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
      fail(n == 0 ? 0 : errno);
      return;
    }
  }
  if (generation == generation_ && (events & EPOLLOUT) != 0) {
    flush();
  }
}

void LinkSocket::on_connect_done() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err != 0) {
    fail(err);
    return;
  }
  connected_ = true;
  uint32_t generation = generation_;
  owner_.on_socket_connected(*this);
  if (generation == generation_) {
    flush();
  }
}

void LinkSocket::flush() {
  if (fd_ < 0 || !connected_) {
    return;
  }
  while (out_pos_ < out_.size()) {
    ssize_t n =
        ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    fail(errno);
    return;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
    if (out_.capacity() > kKeepCapacity) {
      out_.shrink_to_fit();
    }
    if (shutdown_wanted_ && !shutdown_done_) {
      shutdown_done_ = true;
      ::shutdown(fd_, SHUT_WR);
    }
  }
  update_interest();
}

void LinkSocket::update_interest() {
  uint32_t want = EPOLLIN | EPOLLRDHUP;
  if (buffered() > 0) {
    want |= EPOLLOUT;
  }
  if (want != interest_) {
    interest_ = want;
    loop_.modify(fd_, this, interest_);
  }
}

}  // namespace herald::bench
