#pragma once
// A minimal epoll loop for client Connections: wait, dispatch, then write every connection
// that queued output in one write() each (so many sends per iteration cost one syscall).

#include <sys/epoll.h>

#include <cstdint>
#include <string>
#include <vector>

namespace herald::client {

class Connection;

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
  // Writes queued output of every connection that has some.
  void flush_pending();

  // Mask keys: RFC 6455 wants them unpredictable to proxies; xorshift seeded from the kernel.
  uint32_t next_mask() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return static_cast<uint32_t>(rng_ >> 16);
  }

 private:
  friend class Connection;
  bool watch(int fd, Connection* conn, uint32_t events);
  bool modify(int fd, Connection* conn, uint32_t events);
  void mark_dirty(Connection* conn) { dirty_.push_back(conn); }
  void forget(Connection* conn);
  char* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }

  int epoll_fd_ = -1;
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
  std::vector<epoll_event> events_;
  std::vector<Connection*> dirty_;
  std::vector<Connection*> flushing_;
  std::string read_buf_;
};

}  // namespace herald::client
