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

Result<Ok> Listener::open(const Endpoint& endpoint, int backlog) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
  if (endpoint.host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(endpoint.port);
    if (inet_pton(AF_INET6, endpoint.host.c_str(), &a6->sin6_addr) != 1) {
      return Error{"bad IPv6 address '" + endpoint.host + "'"};
    }
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(endpoint.port);
    if (inet_pton(AF_INET, endpoint.host.c_str(), &a4->sin_addr) != 1) {
      return Error{"bad IPv4 address '" + endpoint.host + "' (use a numeric address)"};
    }
    len = sizeof(sockaddr_in);
  }
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    return Error{std::string("socket: ") + std::strerror(errno)};
  }
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string msg = "bind " + endpoint.host + ":" + std::to_string(endpoint.port) + ": " +
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
