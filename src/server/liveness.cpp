#include "server/liveness.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace herald::server {
namespace {

uint64_t steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t env_number(const char* name) {
  const char* v = std::getenv(name);
  uint64_t n = 0;
  if (v == nullptr || std::from_chars(v, v + std::strlen(v), n).ec != std::errc{}) {
    return 0;
  }
  return n;
}

}  // namespace

void Heartbeat::start() { on_timer(); }

void Heartbeat::on_timer() {
  stamped_ms_.store(steady_ms(), std::memory_order_relaxed);
  loop_.timers().arm(*this, loop_.now_ms(), kIntervalMs);
}

uint64_t Heartbeat::age_ms() const {
  uint64_t stamped = stamped_ms_.load(std::memory_order_relaxed);
  uint64_t now = steady_ms();
  return stamped == 0 || now < stamped ? 0 : now - stamped;
}

SystemdNotifier::SystemdNotifier() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@') ||
      std::strlen(path) >= sizeof(sockaddr_un::sun_path)) {
    return;
  }
  address_ = path;
  if (address_[0] == '@') {
    address_[0] = '\0';  // an abstract socket
  }
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  uint64_t usec = env_number("WATCHDOG_USEC");
  uint64_t pid = env_number("WATCHDOG_PID");
  if (usec > 0 && (pid == 0 || pid == static_cast<uint64_t>(getpid()))) {
    watchdog_interval_ms_ = std::max<uint64_t>(usec / 2000, 1);
  }
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool SystemdNotifier::notify(std::string_view state) const {
  if (fd_ < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  return sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                reinterpret_cast<const sockaddr*>(&addr), len) ==
         static_cast<ssize_t>(state.size());
}

}  // namespace herald::server
