#pragma once
// A minimal epoll loop for client sockets (Sockets, and any other LoopSocket): wait,
// dispatch, then write every socket that queued output in one write() each (so many sends per
// iteration cost one syscall).

#include <sys/epoll.h>

#include <cstdint>
#include <string>
#include <vector>

namespace herald::client {

class Loop;

// Something with a socket on a Loop: the loop hands it its epoll events and, once per iteration
// after mark_dirty(), calls flush() to write what it queued. A LoopSocket that is destroyed
// while the loop runs must call Loop::forget() first (Socket does in its destructor).
// Thread: its loop's thread only.
class LoopSocket {
 public:
  virtual ~LoopSocket() = default;
  virtual void handle_events(uint32_t events) = 0;
  virtual void flush() = 0;

 private:
  friend class Loop;
  bool dirty_ = false;
};

// Owns the epoll descriptor, a shared read buffer and the mask-key generator.
// Thread: the thread that calls run_once (one thread per Loop).
class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  bool ok() const { return epoll_fd_ >= 0; }

  // Flushes queued output, waits up to timeout_ms (-1: forever, 0: poll) for I/O, dispatches
  // it and flushes again. Returns the number of epoll events handled.
  int run_once(int timeout_ms);
  // Writes queued output of every socket that has some.
  void flush_pending();

  // For LoopSockets: register a non-blocking fd (its events go to s), change its events, ask
  // for a flush() at the end of the iteration (once, however often it is asked), and drop
  // every reference to s (pending flushes and events not yet dispatched).
  bool watch(int fd, LoopSocket* s, uint32_t events);
  bool modify(int fd, LoopSocket* s, uint32_t events);
  void mark_dirty(LoopSocket* s);
  void forget(LoopSocket* s);
  // One buffer for every read of the loop's sockets: what a socket cannot consume at once it
  // copies out, so idle sockets hold no read buffer.
  char* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }
  // Where a TLS socket decrypts what it read, shared the same way (cleared by each user).
  std::string& plain_buffer() { return plain_buf_; }

  // Mask keys: RFC 6455 wants them unpredictable to proxies; xorshift seeded from the kernel.
  uint32_t next_mask() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return static_cast<uint32_t>(rng_ >> 16);
  }

 private:
  int epoll_fd_ = -1;
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
  std::vector<epoll_event> events_;
  std::vector<LoopSocket*> dirty_;
  std::vector<LoopSocket*> flushing_;
  std::string read_buf_;
  std::string plain_buf_;
};

}  // namespace herald::client
