#pragma once
// EventLoop: one epoll loop, run by one thread, owning every connection accepted on it. Other
// threads talk to it only through post(), which queues a task and wakes the loop with an eventfd.
// Each iteration: wait, dispatch I/O, run posted tasks, fire timers, flush every connection that
// queued output this turn (one sendmsg each: frames are coalesced per socket per turn), then free
// what was closed during the turn. Thread: owning loop only, except post(), stop() and index().

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/counter.h"
#include "base/result.h"
#include "net/buffer.h"
#include "net/free_list.h"
#include "net/timer_wheel.h"

namespace herald::net {

// Receives readiness events for one file descriptor registered with EventLoop::add().
// Also receives the end-of-iteration callback requested with EventLoop::defer_flush() (one
// interface, so a connection carries one vtable pointer for both).
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  virtual void on_io(uint32_t epoll_events) = 0;
  virtual void on_flush() {}
};

class EventLoop {
 public:
  using Task = std::function<void()>;

  explicit EventLoop(int index);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll and eventfd descriptors. Call once before run().
  Result<Ok> init();

  // Runs until stop(). Thread: the thread that becomes the owner.
  void run();
  // Makes run() return after the current iteration. Thread: any.
  void stop();
  // Queues task to run on this loop's thread. Thread: any. Wakes the loop only when the queue was
  // empty, so a burst of posts costs one eventfd write.
  void post(Task task);

  bool add(int fd, uint32_t events, IoHandler* handler);
  bool modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Calls d->on_flush() once at the end of this iteration (idempotent per iteration).
  void defer_flush(IoHandler* d, bool& scheduled_flag);
  // Runs task at the end of this iteration, after the flushes: used to free closed connections
  // outside of their own callbacks.
  void defer(Task task) { deferred_tasks_.push_back(std::move(task)); }

  // Byte buffers (a Stream's cork and its unconsumed input) and output queues, lent to a
  // connection only while it has bytes in them: steady traffic allocates nothing and idle
  // connections hold none.
  std::string* acquire_bytes() { return bytes_pool_.acquire(); }
  void release_bytes(std::string* bytes);
  OutQueue* acquire_queue() { return queue_pool_.acquire(); }
  void release_queue(OutQueue* queue);

  // Bytes this loop's sockets received and sent (what recv and send returned: TLS records, HTTP
  // heads and WebSocket framing included), for /metrics. Thread: owning loop writes; any reads.
  Counter bytes_received;
  Counter bytes_sent;

  TimerWheel& timers() { return timers_; }
  // Runs task on this loop once delay_ms has passed (up to one timer tick late); a task still
  // waiting when the loop is destroyed is dropped. Thread: owning loop only.
  void run_after(uint64_t delay_ms, Task task);
  // Wall-clock-free monotonic milliseconds, sampled once per iteration.
  uint64_t now_ms() const { return now_ms_; }
  int index() const { return index_; }
  // The loop whose run() the calling thread is inside, or nullptr.
  static EventLoop* current();
  // Runs task on this loop: at the end of the current iteration when called from this loop's own
  // thread (no lock, no wake-up), else through post(). Never runs it inline, so a caller is not
  // re-entered from its own call.
  void run_soon(Task task);
  // The loop's scratch read buffer: reused by every connection of this loop for each read.
  std::vector<uint8_t>& read_buffer() { return read_buffer_; }
  // Where TLS connections receive ciphertext before it is decrypted into read_buffer(); allocated
  // on first use, so a loop that serves no TLS does not pay for it.
  std::vector<uint8_t>& tls_read_buffer() {
    if (tls_read_buffer_.empty()) {
      tls_read_buffer_.resize(read_buffer_.size());
    }
    return tls_read_buffer_;
  }

 private:
  void drain_posted();
  void run_flushes();
  void update_clock();

  struct FlushEntry {
    IoHandler* target;
    bool* scheduled;
  };

  int index_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  // Set by stop(), read by run(): a stop() that comes before run() began is kept (run() then
  // returns at once); run() clears it when it returns, so the loop may run again.
  std::atomic<bool> stop_requested_{false};
  uint64_t now_ms_ = 0;
  TimerWheel timers_;
  // run_after()'s timers, armed on timers_ (declared after it: they go first).
  class OneShot;
  std::unordered_map<OneShot*, std::unique_ptr<OneShot>> one_shots_;
  std::vector<uint8_t> read_buffer_;
  std::vector<uint8_t> tls_read_buffer_;
  std::vector<FlushEntry> flush_list_;
  std::vector<Task> deferred_tasks_;
  FreeList<std::string> bytes_pool_{4096};
  FreeList<OutQueue> queue_pool_{4096};

  std::mutex post_mutex_;
  std::vector<Task> posted_;       // guarded by post_mutex_
  std::vector<Task> posted_work_;  // swapped out of posted_ by the owner
  bool wake_pending_ = false;      // guarded by post_mutex_
};

}  // namespace herald::net
