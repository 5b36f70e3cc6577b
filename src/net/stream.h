#pragma once
// Stream: one non-blocking TCP connection owned by one EventLoop. Reads land in the loop's shared
// scratch buffer; only bytes a parser could not consume yet (a partial head or frame header) are
// kept per connection, so an idle connection holds no buffer. Writes queue references to shared
// immutable buffers and are flushed once per loop iteration with one sendmsg. The output queue
// has a hard cap: a reader too slow to keep under it is disconnected instead of growing the
// server. A Stream started with a TlsContext speaks TLS (server side) through a TlsSession: the
// handshake runs in the loop on the bytes as they come, on_data() gets plaintext, and the flush
// encrypts the same queued shared buffers (only the encryption is per connection) before its
// send. A plain Stream never touches the TLS code: one pointer test per read and per flush.
// A closed Stream is deleted at the end of the loop iteration, never inside its own callback.
// Thread: owning loop only.

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"

namespace herald::net {

enum class CloseReason : uint8_t {
  kLocal,         // close()/abort() by the owner
  kPeerClosed,    // EOF from the peer
  kReadError,     // read() failed (ECONNRESET...)
  kWriteError,    // write failed (EPIPE...)
  kOutputLimit,   // the peer did not read fast enough: output queue over its cap
  kTimeout,       // a timer of the owner expired (head, idle, ping, linger)
  kShutdown,      // the server is stopping
  kTlsError,      // TLS handshake failed, or a bad record from the peer
};
const char* describe(CloseReason reason);

class TlsContext;
class TlsSession;

class Stream : public IoHandler, private Timer {
 public:
  Stream(EventLoop& loop, int fd, size_t max_output_bytes);
  ~Stream() override;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Must be called once after construction: registers the descriptor with the loop. With tls the
  // connection speaks TLS, as a server, with a session made from that context. False: the
  // descriptor could not be registered (or no TLS session could be allocated).
  bool start(const TlsContext* tls = nullptr);

  // Queues bytes for the end-of-iteration flush. Returns false if the stream is closing, or if
  // the queue would pass its cap, in which case the stream closes with kOutputLimit at the end
  // of this iteration (never inside the caller's loop).
  bool write(SharedBuffer buffer);
  // Copies bytes (e.g. a frame header, then its payload) into this connection's cork buffer,
  // which is borrowed from the loop's pool for the turn and sent together with the queued shared
  // buffers: per-connection replies cost no allocation in steady state, and an idle connection
  // holds no buffer. Same return value and cap as write(SharedBuffer).
  bool write_copy(std::string_view head, std::string_view body = {});
  bool write(std::string_view bytes) { return write_copy(bytes); }
  size_t buffered_bytes() const { return queued_bytes_; }

  // Stops reading, flushes what is queued, half-closes and then waits (bounded) for the peer's
  // EOF before closing, so the last bytes we sent are not destroyed by a reset.
  void close_after_flush();
  // Closes at once and drops queued output.
  void abort(CloseReason reason = CloseReason::kLocal);

  bool closed() const { return state_ == State::kClosed; }
  bool closing() const { return state_ != State::kOpen; }
  EventLoop& loop() const { return *loop_; }
  int fd() const { return fd_; }
  bool is_tls() const { return tls_ != nullptr; }
  // True from start() until the TLS handshake completes (never for a plain stream).
  bool tls_handshake_pending() const;

  // Presents the kept, unconsumed input to on_data() again (at the end of this iteration): for an
  // owner that paused parsing, e.g. while an asynchronous answer to a pipelined request was
  // pending, and must not wait for more bytes that may never come.
  void resume_input();

  // One timeout per stream; the owner decides what it means. Re-arming replaces the old one.
  void set_timeout(uint64_t delay_ms);
  void clear_timeout() { Timer::cancel(); }

  void on_io(uint32_t epoll_events) final;
  void on_flush() final;

 protected:
  // Bytes arrived. data is writable (parsers may unmask in place). Returns how many bytes were
  // consumed; the rest is kept and passed again, with more appended, on the next read.
  virtual size_t on_data(uint8_t* data, size_t size) = 0;
  // The connection is gone (called exactly once). The object is deleted after this iteration.
  virtual void on_closed(CloseReason reason) = 0;
  // The owner's timeout fired (not called while lingering; the stream handles that itself).
  virtual void on_timeout() {}
  // The output queue drained below the low-water mark after being over the high one.
  virtual void on_drain() {}
  // The TLS handshake completed; the first on_data() comes after this.
  virtual void on_tls_handshake() {}

 private:
  enum class State : uint8_t { kOpen, kFlushThenClose, kLingering, kClosed };

  void on_timer() final;
  bool reserve_output(size_t bytes);
  void seal_cork();
  void release_buffers();
  size_t cork_pending() const { return cork_ == nullptr ? 0 : cork_->size() - cork_sent_; }
  size_t queued_chunks() const { return out_ == nullptr ? 0 : out_->chunks.size() - out_->head; }
  void handle_readable();
  void handle_tls_readable();
  size_t receive(std::vector<uint8_t>& buf);
  void deliver_input(uint8_t* data, size_t size);
  void process_pending(const uint8_t* fresh, size_t fresh_size);
  void flush();
  int gather(iovec* iov) const;
  void consume_plain(size_t n);
  bool send_plain();
  bool send_tls();
  void fail_tls();
  void update_interest();
  void finish_close(CloseReason reason);

  EventLoop* loop_;
  int fd_;
  State state_ = State::kOpen;
  bool flush_scheduled_ = false;
  bool want_write_ = false;     // EPOLLOUT registered
  bool read_paused_ = false;    // EPOLLIN removed while output is over the high-water mark
  bool in_callback_ = false;
  bool overflowed_ = false;     // a write passed the cap: close at the next flush
  size_t cork_sent_ = 0;         // bytes of *cork_ already sent
  size_t max_output_bytes_;
  size_t queued_bytes_ = 0;
  // Borrowed from the loop's pools only while they hold bytes, so an idle connection owns no
  // buffer at all. Queue chunks are always sent before the cork's bytes.
  OutQueue* out_ = nullptr;
  std::string* cork_ = nullptr;
  std::string* pending_in_ = nullptr;  // input a parser could not consume yet
  // TLS connections only. queued_bytes_ then counts plaintext not encrypted yet plus ciphertext
  // not sent yet, so the cap and the backpressure marks mean the same as without TLS.
  std::unique_ptr<TlsSession> tls_;
};

}  // namespace herald::net
