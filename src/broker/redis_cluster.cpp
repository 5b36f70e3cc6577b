#include "broker/redis_cluster.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "broker/resp.h"

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

// One blocking exchange with one Redis: the commands' replies, in order, or an Error.
Result<std::vector<resp::Reply>> exchange(const RedisUrl& url,
                                          const std::vector<std::vector<std::string_view>>& cmds,
                                          uint32_t timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(url.port);
  if (getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return Error{"cannot resolve " + url.host};
  }
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return Error{"connect to " + url.address() + ": " + std::strerror(errno)};
  }
  std::string out;
  for (const auto& cmd : cmds) {
    resp::append_command(out, cmd);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left_ms = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now())
               .count()));
  };
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return Error{"send to " + url.address() + " failed"};
    }
    sent += static_cast<size_t>(n);
  }
  resp::Parser parser;
  std::vector<resp::Reply> replies;
  char buf[16384];
  while (replies.size() < cmds.size()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left_ms()) <= 0) {
      close(fd);
      return Error{"no answer from " + url.address()};
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0 ||
        parser.feed(std::string_view(buf, static_cast<size_t>(n)), replies) !=
            resp::RespError::kNone) {
      close(fd);
      return Error{"bad answer from " + url.address()};
    }
  }
  close(fd);
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

Result<ClusterMap> discover_cluster(const std::vector<RedisUrl>& seeds, uint32_t timeout_ms) {
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
    auto replies = exchange(seed, cmds, timeout_ms);
    if (!replies.ok()) {
      tried += (tried.empty() ? "" : "; ") + replies.error();
      continue;
    }
    const resp::Reply& slots = replies->back();
    if (!slots.is_array()) {
      tried += (tried.empty() ? "" : "; ") + seed.address() + ": CLUSTER SLOTS answered " +
               slots.debug_string();
      continue;
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
  return Error{"redis cluster: no seed answered CLUSTER SLOTS (" + tried + ")"};
}

}  // namespace herald::broker
