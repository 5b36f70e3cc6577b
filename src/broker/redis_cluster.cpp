#include "broker/redis_cluster.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "broker/resp.h"
#include "net/event_loop.h"
#include "net/tls_session.h"

namespace herald::broker {
namespace {

uint16_t crc16(std::string_view s) {
  uint16_t crc = 0;
  for (unsigned char c : s) {
    crc ^= static_cast<uint16_t>(c << 8);
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

// One blocking connection to one Redis, plain or TLS (a net::TlsSession driven by poll: the
// start of the process has no event loop running yet). Closes its socket when destroyed.
class BlockingLink {
 public:
  BlockingLink(const RedisUrl& url, const net::TlsContext* tls, uint32_t timeout_ms)
      : url_(url),
        tls_ctx_(tls),
        deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}
  ~BlockingLink() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  BlockingLink(const BlockingLink&) = delete;
  BlockingLink& operator=(const BlockingLink&) = delete;

  // Connects (and completes the TLS handshake of a rediss:// URL).
  Result<Ok> open() {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(url_.port);
    if (getaddrinfo(url_.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
      return Error{"cannot resolve " + url_.host};
    }
    fd_ = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd_ < 0 ? -1 : connect(fd_, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
    if (rc != 0) {
      return Error{"connect to " + url_.address() + ": " + std::strerror(errno)};
    }
    if (!url_.tls) {
      return Ok{};
    }
    if (tls_ctx_ == nullptr) {
      return Error{url_.address() + ": rediss:// without a TLS configuration"};
    }
    tls_ = net::TlsSession::create_client(*tls_ctx_, pool_, url_.host);
    if (tls_ == nullptr) {
      return Error{url_.address() + ": cannot start a TLS session"};
    }
    while (!tls_->handshake_done()) {
      if (auto r = decrypt(nullptr, 0); !r) {
        return r;
      }
      if (auto r = send_all(tls_->output()); !r) {
        return r;
      }
      tls_->consume_output(tls_->output_size());
      if (tls_->handshake_done()) {
        break;
      }
      auto got = receive();
      if (!got) {
        return Error{got.error()};
      }
      if (auto r = decrypt(in_, *got); !r) {
        return r;
      }
    }
    return Ok{};
  }

  Result<Ok> write(const std::string& bytes) {
    if (tls_ == nullptr) {
      return send_all(bytes);
    }
    iovec piece{const_cast<char*>(bytes.data()), bytes.size()};
    tls_->encrypt(&piece, 1, bytes.size());
    tls_->finish_records();
    if (tls_->failed()) {
      return Error{url_.address() + ": TLS: " + tls_->failure()};
    }
    auto r = send_all(tls_->output());
    tls_->consume_output(tls_->output_size());
    return r;
  }

  // Reads until `replies` holds `count` replies.
  Result<Ok> read_replies(size_t count, std::vector<resp::Reply>& replies) {
    while (replies.size() < count) {
      auto got = receive();
      if (!got) {
        return Error{got.error()};
      }
      if (tls_ != nullptr) {
        if (auto r = decrypt(in_, *got); !r) {
          return r;
        }
      } else {
        plain_.append(reinterpret_cast<const char*>(in_), *got);
      }
      if (parser_.feed(plain_, replies) != resp::RespError::kNone) {
        return Error{"bad answer from " + url_.address()};
      }
      plain_.clear();
    }
    return Ok{};
  }

 private:
  int left_ms() const {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ -
                                                                 std::chrono::steady_clock::now())
               .count()));
  }
  Result<size_t> receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, left_ms()) <= 0) {
      return Error{"no answer from " + url_.address()};
    }
    ssize_t n = recv(fd_, in_, sizeof(in_), 0);
    if (n <= 0) {
      return Error{url_.address() + " closed the connection"};
    }
    return static_cast<size_t>(n);
  }
  Result<Ok> send_all(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return Error{"send to " + url_.address() + " failed"};
      }
      sent += static_cast<size_t>(n);
    }
    return Ok{};
  }
  // Ciphertext in, plaintext appended to plain_ (the handshake advances on it too).
  Result<Ok> decrypt(const uint8_t* data, size_t size) {
    tls_->give_input(data, size);
    for (;;) {
      net::TlsSession::ReadResult r = tls_->read(buf_, sizeof(buf_));
      plain_.append(reinterpret_cast<const char*>(buf_), r.bytes);
      switch (r.status) {
        case net::TlsSession::Status::kOk:
          continue;
        case net::TlsSession::Status::kWantRead:
          return Ok{};
        case net::TlsSession::Status::kClosed:
          return Error{url_.address() + " closed the TLS connection"};
        case net::TlsSession::Status::kError:
          return Error{url_.address() + ": TLS handshake failed: " + tls_->failure()};
      }
    }
  }

  const RedisUrl& url_;
  const net::TlsContext* tls_ctx_;
  std::chrono::steady_clock::time_point deadline_;
  int fd_ = -1;
  net::EventLoop pool_{0};  // lends the TLS session its output buffers (never run)
  std::unique_ptr<net::TlsSession> tls_;
  resp::Parser parser_;
  std::string plain_;
  uint8_t in_[16384];
  uint8_t buf_[16384];
};

// One blocking exchange with one Redis: the commands' replies, in order, or an Error.
Result<std::vector<resp::Reply>> exchange(const RedisUrl& url, const net::TlsContext* tls,
                                          const std::vector<std::vector<std::string_view>>& cmds,
                                          uint32_t timeout_ms) {
  BlockingLink link(url, tls, timeout_ms);
  if (auto r = link.open(); !r) {
    return Error{r.error()};
  }
  std::string out;
  for (const auto& cmd : cmds) {
    resp::append_command(out, cmd);
  }
  if (auto r = link.write(out); !r) {
    return Error{r.error()};
  }
  std::vector<resp::Reply> replies;
  if (auto r = link.read_replies(cmds.size(), replies); !r) {
    return Error{r.error()};
  }
  return replies;
}

}  // namespace

uint16_t cluster_slot(std::string_view key) {
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close_at = key.find('}', open + 1);
    if (close_at != std::string_view::npos && close_at > open + 1) {
      key = key.substr(open + 1, close_at - open - 1);
    }
  }
  return static_cast<uint16_t>(crc16(key) % kClusterSlots);
}

Result<ClusterMap> parse_cluster_slots(const resp::Reply& slots, const RedisUrl& seed) {
  if (!slots.is_array()) {
    return Error{seed.address() + ": CLUSTER SLOTS answered " + slots.debug_string()};
  }
  ClusterMap map;
  map.slots.assign(kClusterSlots, UINT32_MAX);
  for (const resp::Reply& range : slots.elements) {
    // [first, last, [host, port, id, ...] (the master), replicas...]
    if (!range.is_array() || range.elements.size() < 3 || !range.elements[2].is_array() ||
        range.elements[2].elements.size() < 2) {
      continue;
    }
    const resp::Reply& master = range.elements[2];
    RedisUrl url = seed;
    url.db = 0;
    url.host = master.elements[0].str.empty() ? seed.host : master.elements[0].str;
    url.port = static_cast<uint16_t>(master.elements[1].integer);
    uint32_t index = 0;
    while (index < map.masters.size() && map.masters[index].address() != url.address()) {
      ++index;
    }
    if (index == map.masters.size()) {
      map.masters.push_back(url);
    }
    int64_t first = range.elements[0].integer;
    int64_t last = range.elements[1].integer;
    for (int64_t s = std::max<int64_t>(first, 0);
         s <= last && s < static_cast<int64_t>(kClusterSlots); ++s) {
      map.slots[static_cast<size_t>(s)] = index;
    }
  }
  for (uint32_t s = 0; s < kClusterSlots; ++s) {
    if (map.slots[s] == UINT32_MAX) {
      return Error{"redis cluster at " + seed.address() + ": slot " + std::to_string(s) +
                   " has no master (is the cluster created and ok?)"};
    }
  }
  return map;
}

Result<ClusterMap> discover_cluster(const std::vector<RedisUrl>& seeds, uint32_t timeout_ms,
                                    const net::TlsContext* tls) {
  std::string tried;
  for (const RedisUrl& seed : seeds) {
    std::vector<std::vector<std::string_view>> cmds;
    if (!seed.password.empty()) {
      if (seed.user.empty()) {
        cmds.push_back({"AUTH", seed.password});
      } else {
        cmds.push_back({"AUTH", seed.user, seed.password});
      }
    }
    cmds.push_back({"CLUSTER", "SLOTS"});
    auto replies = exchange(seed, tls, cmds, timeout_ms);
    if (!replies.ok()) {
      tried += (tried.empty() ? "" : "; ") + replies.error();
      continue;
    }
    auto map = parse_cluster_slots(replies->back(), seed);
    if (!map.ok()) {
      tried += (tried.empty() ? "" : "; ") + map.error();
      continue;
    }
    return map;
  }
  return Error{"redis cluster: no seed answered CLUSTER SLOTS (" + tried + ")"};
}

}  // namespace herald::broker
