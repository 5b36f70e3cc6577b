#include "net/listener.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace herald::net {

Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint ep;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{"bad address '" + std::string(text) + "': expected [IPv6]:PORT"};
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Error{"bad address '" + std::string(text) + "': expected HOST:PORT"};
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return Error{"bad port in '" + std::string(text) + "'"};
  }
  ep.host = host.empty() ? "0.0.0.0" : std::string(host);
  if (ep.host == "localhost") {
    ep.host = "127.0.0.1";
  }
  ep.port = static_cast<uint16_t>(value);
  return ep;
}

std::string format_endpoint(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
  return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
}

Listener::Listener(EventLoop& loop, AcceptFn on_accept)
    : loop_(&loop), on_accept_(std::move(on_accept)) {}

Listener::~Listener() { close(); }

namespace {

// The socket address of endpoint (numeric host), or an error naming the bad address.
Result<socklen_t> to_sockaddr(const Endpoint& endpoint, sockaddr_storage& addr) {
  addr = sockaddr_storage{};
  if (endpoint.host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(endpoint.port);
    if (inet_pton(AF_INET6, endpoint.host.c_str(), &a6->sin6_addr) != 1) {
      return Error{"bad IPv6 address '" + endpoint.host + "'"};
    }
    return socklen_t{sizeof(sockaddr_in6)};
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(endpoint.port);
  if (inet_pton(AF_INET, endpoint.host.c_str(), &a4->sin_addr) != 1) {
    return Error{"bad IPv4 address '" + endpoint.host + "' (use a numeric address)"};
  }
  return socklen_t{sizeof(sockaddr_in)};
}

std::string endpoint_text(const Endpoint& endpoint) {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  return (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

}  // namespace

Result<Ok> ensure_address_free(const Endpoint& endpoint) {
  if (endpoint.port == 0) {
    return Ok{};  // the kernel picks an unused port, never one shared through SO_REUSEPORT
  }
  sockaddr_storage addr{};
  auto len = to_sockaddr(endpoint, addr);
  if (!len) {
    return Error{len.error()};
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  // SO_REUSEADDR, as the real listeners have: a port left in TIME_WAIT is free, one with a
  // listening socket is not. Without SO_REUSEPORT the bind conflicts with every listener there,
  // whichever process and options it has.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), *len);
  int err = errno;
  ::close(fd);
  if (rc == 0) {
    return Ok{};
  }
  if (err == EADDRINUSE) {
    return Error{endpoint_text(endpoint) + " is already in use"};
  }
  return Error{"bind " + endpoint_text(endpoint) + ": " + std::strerror(err)};
}

Result<Ok> Listener::open(const Endpoint& endpoint, int backlog) {
  sockaddr_storage addr{};
  auto addr_len = to_sockaddr(endpoint, addr);
  if (!addr_len) {
    return Error{addr_len.error()};
  }
  socklen_t len = *addr_len;
  int family = addr.ss_family;
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string msg = errno == EADDRINUSE ? endpoint_text(endpoint) + " is already in use"
                                          : "bind " + endpoint_text(endpoint) + ": " +
                                                std::strerror(errno);
    close();
    return Error{msg};
  }
  if (::listen(fd_, backlog) != 0) {
    std::string msg = std::string("listen: ") + std::strerror(errno);
    close();
    return Error{msg};
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (!loop_->add(fd_, EPOLLIN, this)) {
    std::string msg = std::string("epoll add listener: ") + std::strerror(errno);
    close();
    return Error{msg};
  }
  return Ok{};
}

void Listener::close() {
  if (fd_ >= 0) {
    loop_->remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

void Listener::on_io(uint32_t /*epoll_events*/) {
  // Bounded per wake-up so a connection storm cannot starve the connections already open.
  for (int i = 0; i < 256 && fd_ >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // EAGAIN: drained. EMFILE/ENFILE: out of descriptors; the connection stays in the backlog
      // and we try again on the next wake-up rather than spinning here.
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    on_accept_(fd, peer);
  }
}

}  // namespace herald::net
