#include "api_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http_response.h"

namespace herald::bench {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

void append_uint(std::string& out, size_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<size_t>(end - p));
}

}  // namespace

ApiClient::~ApiClient() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) {
      ::close(c.fd);
    }
  }
  if (epoll_fd_ >= 0) {
    ::close(epoll_fd_);
  }
}

Result<Ok> ApiClient::open(const client::Endpoint& endpoint, int count, std::string host_header,
                           std::string api_key) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    return Error{std::string("epoll_create1: ") + std::strerror(errno)};
  }
  request_head_ = " HTTP/1.1\r\nHost: " + host_header + "\r\nContent-Type: application/json\r\n";
  if (!api_key.empty()) {
    request_head_ += "X-API-Key: " + api_key + "\r\n";
  }
  request_head_ += "Content-Length: ";
  conns_.resize(static_cast<size_t>(count));
  for (size_t i = 0; i < conns_.size(); ++i) {
    int fd = ::socket(endpoint.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return Error{std::string("socket: ") + std::strerror(errno)};
    }
    conns_[i].fd = fd;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&endpoint.addr), endpoint.len) != 0) {
      return Error{"connect to the server API at " + endpoint.to_string() + ": " +
                   std::strerror(errno)};
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      return Error{std::string("epoll_ctl: ") + std::strerror(errno)};
    }
  }
  return Ok{};
}

size_t ApiClient::total_in_flight() const {
  size_t n = 0;
  for (const Conn& c : conns_) {
    n += c.tags.size();
  }
  return n;
}

bool ApiClient::any_usable() const {
  for (const Conn& c : conns_) {
    if (c.fd >= 0) {
      return true;
    }
  }
  return false;
}

bool ApiClient::post(int conn, std::string_view path, std::string_view body, uint64_t tag) {
  Conn& c = conns_[static_cast<size_t>(conn)];
  if (c.fd < 0) {
    return false;
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
  c.out.append("POST ");
  c.out.append(path);
  c.out.append(request_head_);
  append_uint(c.out, body.size());
  c.out.append("\r\n\r\n");
  c.out.append(body);
  c.tags.push_back(tag);
  return true;
}

void ApiClient::fail(Conn& c, std::string_view what, ApiHandler& handler) {
  if (c.fd < 0) {
    return;
  }
  ::close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  c.in.clear();
  c.out.clear();
  c.out_pos = 0;
  if (first_error_.empty()) {
    first_error_ = std::string(what);
  }
  std::deque<uint64_t> tags;
  tags.swap(c.tags);
  for (uint64_t tag : tags) {
    handler.on_api_failure(tag, what);
  }
}

void ApiClient::update_interest(size_t index) {
  Conn& c = conns_[index];
  bool want = c.out_pos < c.out.size();
  if (c.fd < 0 || want == c.want_write) {
    return;
  }
  c.want_write = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u64 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ApiClient::write_some(Conn& c, ApiHandler& handler) {
  while (c.fd >= 0 && c.out_pos < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    fail(c, std::string("server API write: ") + std::strerror(errno), handler);
    return;
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
}

void ApiClient::flush(ApiHandler& handler) {
  for (size_t i = 0; i < conns_.size(); ++i) {
    write_some(conns_[i], handler);
    update_interest(i);
  }
}

int ApiClient::read_some(Conn& c, ApiHandler& handler) {
  int delivered = 0;
  while (c.fd >= 0) {
    if (read_buf_.empty()) {
      read_buf_.resize(kReadChunk);
    }
    ssize_t n = ::recv(c.fd, read_buf_.data(), read_buf_.size(), 0);
    if (n == 0) {
      fail(c, "server API closed the connection", handler);
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(c, std::string("server API read: ") + std::strerror(errno), handler);
      }
      break;
    }
    c.in.append(read_buf_.data(), static_cast<size_t>(n));
    size_t used = 0;
    while (c.fd >= 0) {
      HttpResponse r;
      HttpError err;
      size_t span = parse_http_response(std::string_view(c.in).substr(used), &r, &err);
      if (err != HttpError::kNone) {
        fail(c, std::string("server API response: ") + std::string(to_string(err)), handler);
        break;
      }
      if (span == 0) {
        break;
      }
      used += span;
      if (c.tags.empty()) {
        fail(c, "server API sent a response nobody asked for", handler);
        break;
      }
      uint64_t tag = c.tags.front();
      c.tags.pop_front();
      handler.on_api_response(tag, r.status, r.body);
      ++delivered;
      if (r.close) {
        fail(c, "server API closed the connection (Connection: close)", handler);
      }
    }
    if (c.fd >= 0) {
      c.in.erase(0, used);
    }
    if (static_cast<size_t>(n) < kReadChunk) {
      break;
    }
  }
  return delivered;
}

int ApiClient::poll(int timeout_ms, ApiHandler& handler) {
  flush(handler);
  epoll_event events[64];
  int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
  int delivered = 0;
  for (int i = 0; i < n; ++i) {
    size_t index = static_cast<size_t>(events[i].data.u64);
    Conn& c = conns_[index];
    if ((events[i].events & EPOLLOUT) != 0) {
      write_some(c, handler);
    }
    if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
      delivered += read_some(c, handler);
    }
  }
  flush(handler);
  return delivered;
}

}  // namespace herald::bench
