#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace herald::net {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;  // one read per readiness event drains most sockets
constexpr int kMaxEvents = 1024;

thread_local EventLoop* t_current = nullptr;

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

class EventLoop::OneShot final : public Timer {
 public:
  OneShot(EventLoop& loop, Task task) : loop_(loop), task_(std::move(task)) {}

 private:
  void on_timer() override {
    Task task = std::move(task_);
    loop_.one_shots_.erase(this);  // destroys this (already disarmed)
    task();
  }
  EventLoop& loop_;
  Task task_;
};

EventLoop::EventLoop(int index) : index_(index), read_buffer_(kReadBufferSize) {}

EventLoop::~EventLoop() {
  if (epoll_fd_ >= 0) {
    close(epoll_fd_);
  }
  if (wake_fd_ >= 0) {
    close(wake_fd_);
  }
}

Result<Ok> EventLoop::init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    return Error{std::string("epoll_create1: ") + std::strerror(errno)};
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return Error{std::string("eventfd: ") + std::strerror(errno)};
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up descriptor is the only one without a handler
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return Error{std::string("epoll_ctl(eventfd): ") + std::strerror(errno)};
  }
  update_clock();
  return Ok{};
}

void EventLoop::update_clock() { now_ms_ = monotonic_ms(); }

void EventLoop::run_after(uint64_t delay_ms, Task task) {
  auto shot = std::make_unique<OneShot>(*this, std::move(task));
  timers_.arm(*shot, now_ms_, delay_ms);
  OneShot* key = shot.get();
  one_shots_.emplace(key, std::move(shot));
}

bool EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(Task task) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(post_mutex_);
    posted_.push_back(std::move(task));
    if (!wake_pending_) {
      wake_pending_ = true;
      wake = true;
    }
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
  }
}

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  post([] {});  // wake the loop so it sees the request
}

void EventLoop::defer_flush(IoHandler* d, bool& scheduled_flag) {
  if (!scheduled_flag) {
    scheduled_flag = true;
    flush_list_.push_back(FlushEntry{d, &scheduled_flag});
  }
}

void EventLoop::release_bytes(std::string* bytes) {
  // A buffer that grew for one huge message is not kept.
  constexpr size_t kMaxKeptCapacity = 64 * 1024;
  bool keep = bytes->capacity() <= kMaxKeptCapacity;
  bytes->clear();
  bytes_pool_.release(bytes, keep);
}

void EventLoop::release_queue(OutQueue* queue) {
  constexpr size_t kMaxKeptChunks = 1024;
  bool keep = queue->chunks.capacity() <= kMaxKeptChunks;
  queue->chunks.clear();
  queue->head = 0;
  queue_pool_.release(queue, keep);
}

void EventLoop::drain_posted() {
  // Clear the eventfd before taking the queue: a post() that lands after the swap then finds
  // wake_pending_ false and writes again. The other order loses that wake-up and the task waits
  // for an unrelated event (or forever).
  uint64_t counter = 0;
  ssize_t n = read(wake_fd_, &counter, sizeof(counter));
  (void)n;
  {
    std::lock_guard<std::mutex> lock(post_mutex_);
    posted_work_.swap(posted_);
    wake_pending_ = false;
  }
  for (Task& task : posted_work_) {
    task();
  }
  posted_work_.clear();
}

void EventLoop::run_flushes() {
  // A flush may queue more work for another connection (e.g. a close that notifies a peer), so
  // iterate by index over a list that can grow.
  for (size_t i = 0; i < flush_list_.size(); ++i) {
    FlushEntry entry = flush_list_[i];
    *entry.scheduled = false;
    entry.target->on_flush();
  }
  flush_list_.clear();
  while (!deferred_tasks_.empty()) {
    std::vector<Task> tasks;
    tasks.swap(deferred_tasks_);
    for (Task& task : tasks) {
      task();
    }
  }
}

EventLoop* EventLoop::current() { return t_current; }

void EventLoop::run_soon(Task task) {
  if (t_current == this) {
    defer(std::move(task));
  } else {
    post(std::move(task));
  }
}

void EventLoop::run() {
  t_current = this;
  epoll_event events[kMaxEvents];
  while (!stop_requested_.load(std::memory_order_acquire)) {
    int timeout = flush_list_.empty() ? timers_.next_timeout_ms(now_ms_) : 0;
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    update_clock();
    if (n < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
      if (handler == nullptr) {
        drain_posted();
      } else {
        handler->on_io(events[i].events);
      }
    }
    timers_.advance(now_ms_);
    run_flushes();
  }
  // Drain what was posted before stop() so no task (and the buffers it holds) is lost silently.
  drain_posted();
  run_flushes();
  stop_requested_.store(false, std::memory_order_relaxed);
  t_current = nullptr;
}

}  // namespace herald::net
