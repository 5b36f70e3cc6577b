#include "api_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace herald::app {
namespace {

struct Url {
  std::string host;
  std::string port;
};

Result<Url> parse_url(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    return Error{"only http:// server URLs are supported: " + url};
  }
  while (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  Url u;
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) {
      return Error{"bad server URL: " + url};
    }
    u.host = rest.substr(1, close - 1);
    u.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "80";
  } else if (colon != std::string::npos) {
    u.host = rest.substr(0, colon);
    u.port = rest.substr(colon + 1);
  } else {
    u.host = rest;
    u.port = "80";
  }
  if (u.host.empty() || u.port.empty()) {
    return Error{"bad server URL: " + url};
  }
  return u;
}

}  // namespace

Result<ApiResponse> post_api(const std::string& url, const std::string& method,
                             const std::string& body, const std::string& api_key,
                             int timeout_ms) {
  auto u = parse_url(url);
  if (!u) {
    return Error{u.error()};
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
  std::string req = "POST /api/" + method + " HTTP/1.1\r\nHost: " + u->host +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\n";
  if (!api_key.empty()) {
    req += "X-API-Key: " + api_key + "\r\n";
  }
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return Error{std::string("send: ") + std::strerror(errno)};
    }
    sent += static_cast<size_t>(n);
  }
  // Connection: close: the response ends when the server closes.
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      ::close(fd);
      return Error{"no complete answer from " + url + " in time"};
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
      continue;
    }
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      break;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
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
