#include "api_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace herald::app {
namespace {

using Clock = std::chrono::steady_clock;

struct Url {
  std::string host;
  std::string port;
  bool tls = false;
};

Result<Url> parse_url(const std::string& url) {
  std::string rest = url;
  Url u;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest = rest.substr(8);
    u.tls = true;
  } else if (rest.find("://") != std::string::npos) {
    return Error{"only http:// and https:// server URLs are supported: " + url};
  }
  while (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  std::string default_port = u.tls ? "443" : "80";
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      return Error{"bad server URL: " + url};
    }
    u.host = rest.substr(1, close - 1);
    u.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2)
                                                               : default_port;
  } else if (colon != std::string::npos) {
    u.host = rest.substr(0, colon);
    u.port = rest.substr(colon + 1);
  } else {
    u.host = rest;
    u.port = default_port;
  }
  if (u.host.empty() || u.port.empty()) {
    return Error{"bad server URL: " + url};
  }
  return u;
}

// One blocking connection, plain or TLS, with a deadline on every wait.
class Wire {
 public:
  Wire(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  ~Wire() { ::close(fd_); }

  // Runs the TLS handshake; the error says why it failed (a certificate that does not verify).
  Result<Ok> start_tls(const client::TlsClientContext& ctx, const std::string& host) {
    tls_ = client::TlsClientSession::create(ctx, host, "http/1.1");
    if (tls_ == nullptr) {
      return Error{"TLS: cannot create a session"};
    }
    std::string out;
    tls_->start(out);
    while (!tls_->handshake_done()) {
      if (auto r = send_raw(out); !r) {
        return r;
      }
      out.clear();
      auto got = recv_raw();
      if (!got) {
        return Error{got.error()};
      }
      if (got->empty()) {
        return Error{"the server closed the connection during the TLS handshake"};
      }
      if (tls_->feed(*got, plain_, out) == client::TlsClientSession::Status::kError) {
        return Error{"TLS: " + tls_->error()};
      }
    }
    return send_raw(out);
  }

  Result<Ok> send(const std::string& bytes) {
    if (tls_ == nullptr) {
      return send_raw(bytes);
    }
    std::string out;
    if (tls_->encrypt(bytes, out) != client::TlsClientSession::Status::kOk) {
      return Error{"TLS: " + tls_->error()};
    }
    return send_raw(out);
  }

  // Everything until the server closes (Connection: close).
  Result<std::string> read_all() {
    std::string in = std::move(plain_);
    while (true) {
      auto got = recv_raw();
      if (!got) {
        return Error{got.error()};
      }
      if (got->empty()) {
        return in;
      }
      if (tls_ == nullptr) {
        in += *got;
        continue;
      }
      std::string out;
      auto status = tls_->feed(*got, in, out);
      if (status == client::TlsClientSession::Status::kError) {
        return Error{"TLS: " + tls_->error()};
      }
      if (status == client::TlsClientSession::Status::kClosed) {
        return in;
      }
    }
  }

 private:
  Result<Ok> send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return Error{std::string("send: ") + std::strerror(errno)};
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Ok{};
  }

  // Some bytes; empty at EOF.
  Result<std::string> recv_raw() {
    while (true) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) {
        return Error{"no complete answer in time"};
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
        continue;
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return Error{std::string("recv: ") + std::strerror(errno)};
      }
      return std::string(buf, static_cast<size_t>(n));
    }
  }

  int fd_;
  Clock::time_point deadline_;
  std::unique_ptr<client::TlsClientSession> tls_;
  std::string plain_;  // plaintext that came with the end of the handshake
};

}  // namespace

Result<ApiResponse> post_api(const std::string& url, const std::string& method,
                             const std::string& body, const std::string& api_key,
                             const client::TlsOptions& tls, int timeout_ms) {
  auto u = parse_url(url);
  if (!u) {
    return Error{u.error()};
  }
  std::shared_ptr<const client::TlsClientContext> ctx;
  if (u->tls) {
    auto made = client::TlsClientContext::create(tls);
    if (!made) {
      return Error{made.error()};
    }
    ctx = *made;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(u->host.c_str(), u->port.c_str(), &hints, &res); rc != 0) {
    return Error{"cannot resolve " + u->host + ": " + gai_strerror(rc)};
  }
  int fd = -1;
  std::string last_error;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return Error{"cannot connect to " + url + ": " + last_error};
  }
  Wire wire(fd, Clock::now() + std::chrono::milliseconds(timeout_ms));
  if (ctx != nullptr) {
    if (auto r = wire.start_tls(*ctx, u->host); !r) {
      return Error{"cannot connect to " + url + ": " + r.error()};
    }
  }
  std::string req = "POST /api/" + method + " HTTP/1.1\r\nHost: " + u->host +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\n";
  if (!api_key.empty()) {
    req += "X-API-Key: " + api_key + "\r\n";
  }
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (auto r = wire.send(req); !r) {
    return Error{r.error()};
  }
  // Connection: close: the response ends when the server closes.
  auto read = wire.read_all();
  if (!read) {
    return Error{read.error() + " (" + url + ")"};
  }
  const std::string& in = *read;
  size_t head_end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || in.size() < 12) {
    return Error{"not an HTTP answer from " + url};
  }
  ApiResponse r;
  r.status = std::atoi(in.c_str() + 9);
  r.body = in.substr(head_end + 4);
  return r;
}

}  // namespace herald::app
