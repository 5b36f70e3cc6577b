#include "pusher/http_post.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace herald::pusher {
namespace {

constexpr size_t kMaxHead = 16 * 1024;  // enough for any status line and head we care about

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    return Error{"https webhooks are not supported yet (use http:// to a local receiver or proxy)"};
  }
  if (!url.starts_with(kScheme)) {
    return Error{"a webhook url starts with http://"};
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.path.front() == '?') {
    out.path.insert(out.path.begin(), '/');
  }
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Error{"a webhook url needs a host (and no user:password@)"};
  }
  out.authority = std::string(authority);
  std::string_view host = authority;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return Error{"unclosed [ in the webhook url's host"};
    }
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() != ':') {
      return Error{"junk after ] in the webhook url's host"};
    }
    port = port.empty() ? port : port.substr(1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) {
    return Error{"a webhook url needs a host"};
  }
  for (char c : out.path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Error{"the webhook url's path has a space or a control character"};
    }
  }
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || end != port.data() + port.size() || v == 0 || v > 65535) {
      return Error{"bad port in the webhook url"};
    }
    out.port = static_cast<uint16_t>(v);
  }
  return out;
}

HttpPost::~HttpPost() { close_socket(); }

void HttpPost::close_socket() {
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  Timer::cancel();
}

void HttpPost::cancel() {
  close_socket();
  done_ = nullptr;
  ++generation_;
}

void HttpPost::start(const HttpUrl& url, std::string request, uint32_t timeout_ms, Done done) {
  close_socket();
  ++generation_;
  done_ = std::move(done);
  out_ = std::move(request);
  sent_ = 0;
  in_.clear();
  loop_.timers().arm(*this, loop_.now_ms(), timeout_ms);
  auto fail_soon = [this](std::string why) {
    close_socket();
    loop_.defer([this, gen = generation_, why = std::move(why)] {
      if (gen == generation_) {
        finish(0, why);
      }
    });
  };
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* found = nullptr;
  std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail_soon(std::string("cannot resolve ") + url.host + ": " + gai_strerror(rc));
  }
  fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    freeaddrinfo(found);
    return fail_soon(std::string("socket: ") + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = ::connect(fd_, found->ai_addr, found->ai_addrlen);
  int err = errno;
  freeaddrinfo(found);
  if (rc != 0 && err != EINPROGRESS) {
    return fail_soon(std::string("connect: ") + std::strerror(err));
  }
  connecting_ = true;
  if (!loop_.add(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
    ::close(fd_);
    fd_ = -1;
    return fail_soon("epoll_ctl failed");
  }
}

void HttpPost::on_io(uint32_t events) {
  if (fd_ < 0) {
    return;
  }
  if (connecting_) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
      return;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return finish(0, std::string("connect: ") + std::strerror(err));
    }
    connecting_ = false;
  }
  if ((events & EPOLLOUT) != 0 && sent_ < out_.size()) {
    write_some();
    if (fd_ < 0) {
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    read_some();
  }
}

void HttpPost::write_some() {
  while (sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      return finish(0, std::string("send: ") + std::strerror(errno));
    }
    sent_ += static_cast<size_t>(n);
  }
  loop_.modify(fd_, EPOLLIN | EPOLLRDHUP, this);  // all written: only the answer is awaited
}

void HttpPost::read_some() {
  char buf[4096];
  while (fd_ >= 0) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      return finish(0, std::string("recv: ") + std::strerror(errno));
    }
    if (n > 0 && in_.size() < kMaxHead) {
      in_.append(buf, static_cast<size_t>(std::min<size_t>(static_cast<size_t>(n),
                                                           kMaxHead - in_.size())));
    }
    // The status line is all we need; wait for the whole head so the receiver is not reset
    // while it writes it.
    bool head_done = in_.find("\r\n\r\n") != std::string::npos;
    if (n == 0 || head_done || in_.size() >= kMaxHead) {
      // "HTTP/1.x NNN ..."
      int status = 0;
      if (in_.size() >= 12 && in_.starts_with("HTTP/1.")) {
        std::from_chars(in_.data() + 9, in_.data() + 12, status);
      }
      if (status < 100 || status > 599) {
        return finish(0, n == 0 && in_.empty() ? "closed without an answer"
                                                : "malformed answer");
      }
      return finish(status, {});
    }
  }
}

void HttpPost::on_timer() {
  finish(0, connecting_ ? "connect timed out" : "no answer in time");
}

void HttpPost::finish(int status, const std::string& why) {
  close_socket();
  Done done = std::move(done_);
  done_ = nullptr;
  ++generation_;
  if (done) {
    done(status, why);
  }
}

}  // namespace herald::pusher
