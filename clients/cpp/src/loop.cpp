#include "herald/client/loop.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>


namespace herald::client {
namespace {
constexpr size_t kMaxEvents = 1024;
// One read can drain a busy socket's receive queue; shared by all connections of the loop so
// that 10,000 idle connections cost no read buffers.
constexpr size_t kReadBufferSize = 256 * 1024;
}  // namespace

Loop::Loop() : events_(kMaxEvents), read_buf_(kReadBufferSize, '\0') {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(seed)) &&
      seed != 0) {
    rng_ = seed;
  }
  dirty_.reserve(1024);
  flushing_.reserve(1024);
}

Loop::~Loop() {
  if (epoll_fd_ >= 0) {
    ::close(epoll_fd_);
  }
}

bool Loop::watch(int fd, LoopSocket* s, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = s;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Loop::modify(int fd, LoopSocket* s, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = s;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Loop::mark_dirty(LoopSocket* s) {
  if (!s->dirty_) {
    s->dirty_ = true;
    dirty_.push_back(s);
  }
}

void Loop::forget(LoopSocket* s) {
  if (s->dirty_) {
    dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), s), dirty_.end());
    s->dirty_ = false;
  }
  std::replace(flushing_.begin(), flushing_.end(), s, static_cast<LoopSocket*>(nullptr));
  // Events already returned by epoll_wait for this socket must not be dispatched.
  for (auto& ev : events_) {
    if (ev.data.ptr == s) {
      ev.data.ptr = nullptr;
    }
  }
}

void Loop::flush_pending() {
  // Sockets may re-mark themselves (or others) while flushing: swap, then drain.
  flushing_.swap(dirty_);
  for (LoopSocket* s : flushing_) {
    if (s != nullptr) {
      s->dirty_ = false;
      s->flush();
    }
  }
  flushing_.clear();
}

int Loop::run_once(int timeout_ms) {
  flush_pending();
  if (!dirty_.empty()) {
    timeout_ms = 0;
  }
  int n = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) {
    return errno == EINTR ? 0 : -1;
  }
  for (int i = 0; i < n; ++i) {
    auto* s = static_cast<LoopSocket*>(events_[static_cast<size_t>(i)].data.ptr);
    if (s != nullptr) {
      s->handle_events(events_[static_cast<size_t>(i)].events);
    }
  }
  flush_pending();
  return n;
}

}  // namespace herald::client
