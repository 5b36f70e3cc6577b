#include "pusher/http_post.h"

#include <algorithm>
#include <charconv>

namespace herald::pusher {
namespace {

constexpr size_t kMaxHead = 16 * 1024;  // enough for any status line and head we care about

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
    out.tls = true;
    out.port = 443;
  } else {
    return Error{"a webhook url starts with http:// or https://"};
  }
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
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

HttpPost::~HttpPost() { Timer::cancel(); }

void HttpPost::cancel() {
  socket_.close();
  Timer::cancel();
  done_ = nullptr;
  ++generation_;
}

void HttpPost::start(const HttpUrl& url, std::string request, uint32_t timeout_ms, Done done) {
  socket_.close();
  ++generation_;
  done_ = std::move(done);
  in_.clear();
  loop_.timers().arm(*this, loop_.now_ms(), timeout_ms);
  auto fail_soon = [this](std::string why) {
    socket_.close();
    loop_.defer([this, gen = generation_, why = std::move(why)] {
      if (gen == generation_) {
        finish(0, why);
      }
    });
  };
  if (url.tls && tls_ == nullptr) {
    return fail_soon("https without a TLS client context");
  }
  if (!socket_.connect(url.host, url.port, url.tls ? tls_.get() : nullptr)) {
    return fail_soon(socket_.error());
  }
  socket_.write(request);  // leaves once connected (and the receiver's certificate accepted)
}

void HttpPost::on_data(net::ClientSocket& /*socket*/, const uint8_t* data, size_t size) {
  if (in_.size() < kMaxHead) {
    in_.append(reinterpret_cast<const char*>(data), std::min(size, kMaxHead - in_.size()));
  }
  // The status line is all we need; wait for the whole head so the receiver is not reset while
  // it writes it.
  if (in_.find("\r\n\r\n") != std::string::npos || in_.size() >= kMaxHead) {
    answer_read(false);
  }
}

void HttpPost::on_closed(net::ClientSocket& /*socket*/, net::ClientSocket::End end,
                         const std::string& why) {
  if (end == net::ClientSocket::End::kPeerClosed) {
    answer_read(true);
    return;
  }
  finish(0, why);
}

void HttpPost::answer_read(bool peer_closed) {
  // "HTTP/1.x NNN ..."
  int status = 0;
  if (in_.size() >= 12 && in_.starts_with("HTTP/1.")) {
    std::from_chars(in_.data() + 9, in_.data() + 12, status);
  }
  if (status < 100 || status > 599) {
    return finish(0, peer_closed && in_.empty() ? "closed without an answer" : "malformed answer");
  }
  finish(status, {});
}

void HttpPost::on_timer() {
  switch (socket_.phase()) {
    case net::ClientSocket::Phase::kConnecting:
      return finish(0, "connect timed out");
    case net::ClientSocket::Phase::kTlsHandshake:
      return finish(0, "TLS handshake timed out");
    default:
      return finish(0, "no answer in time");
  }
}

void HttpPost::finish(int status, const std::string& why) {
  socket_.close();
  Timer::cancel();
  Done done = std::move(done_);
  done_ = nullptr;
  ++generation_;
  if (done) {
    done(status, why);
  }
}

}  // namespace herald::pusher
