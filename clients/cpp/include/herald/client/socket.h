#pragma once
// Socket: one client TCP connection on a Loop, plain or TLS: a non-blocking connect, then the
// TLS handshake inside the loop (no thread ever waits on OpenSSL), plaintext that the owner
// queues and that is written once per loop iteration (encrypted first over TLS), and plaintext
// handed to the owner as it is read. No timers and no framing: its owner (a WebSocket
// Connection, a LineConnection, a benchmark link) does both.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "herald/client/loop.h"
#include "herald/client/tls.h"
#include "herald/client/url.h"

namespace herald::client {

// How a socket ended.
struct SocketEnd {
  enum class Kind : uint8_t {
    kConnectFailed,  // the TCP connect failed (sys_errno)
    kTlsFailed,      // the TLS handshake or a record failed (tls_error)
    kEof,            // the peer closed: FIN, or close_notify over TLS
    kError,          // a read or write failed (sys_errno)
  };
  Kind kind = Kind::kEof;
  int sys_errno = 0;
  std::string_view tls_error;  // valid during on_socket_end only
};

// Owned by its owner, which keeps it alive while the loop may call it (Loop::forget runs in the
// destructor). Thread: its loop's thread only.
class Socket final : public LoopSocket {
 public:
  // Callbacks from inside Loop::run_once. The owner may write, shut down or close the socket
  // inside them, but must not destroy it.
  class Owner {
   public:
    virtual ~Owner() = default;
    // Connected, and over TLS the handshake is done (the certificate verified).
    virtual void on_socket_open(Socket& socket) = 0;
    // Plaintext read, in a buffer of the loop: valid during the call only.
    virtual void on_socket_data(Socket& socket, std::string_view data) = 0;
    // Exactly once per started socket, which is already closed.
    virtual void on_socket_end(Socket& socket, const SocketEnd& end) = 0;
  };

  Socket(Loop& loop, Owner& owner) : loop_(loop), owner_(owner) {}
  ~Socket() override;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Starts a non-blocking connect; with tls, the handshake follows, verifying the certificate
  // for host and offering alpn (empty: none). False (no callback) when it fails at once:
  // last_errno() says why (ENOMEM when OpenSSL cannot make a session).
  bool connect(const Endpoint& to, const TlsClientContext* tls = nullptr,
               std::string_view host = {}, std::string_view alpn = {});

  // Plaintext to send: append to output(), then mark_dirty(). Bytes queued before on_socket_open
  // wait for it.
  std::string& output();
  void mark_dirty();
  void write(std::string_view bytes) {
    output().append(bytes);
    mark_dirty();
  }
  // Once everything queued is out: close_notify over TLS, then FIN. Reading goes on.
  void shutdown_write();
  // Closes now, without a callback; what is queued is dropped.
  void close();

  bool is_open() const { return fd_ >= 0; }
  bool opened() const { return state_ == State::kOpen; }
  bool tls() const { return tls_ != nullptr; }
  // Plaintext not yet encrypted or sent, plus ciphertext not yet sent.
  size_t buffered() const { return (out_.size() - out_pos_) + (cipher_.size() - cipher_pos_); }
  int last_errno() const { return last_errno_; }
  int fd() const { return fd_; }

  // LoopSocket. flush() may also be called directly for a best-effort write (a close frame sent
  // just before closing).
  void handle_events(uint32_t events) override;
  void flush() override;

 private:
  enum class State : uint8_t { kClosed, kConnecting, kTlsHandshake, kOpen };

  void on_connect_done();
  void on_ciphertext(std::string_view data);
  bool send_from(std::string& buf, size_t& pos);
  void update_interest();
  void end(SocketEnd::Kind kind, int err);

  Loop& loop_;
  Owner& owner_;
  int fd_ = -1;
  uint32_t generation_ = 0;  // bumped by close(): a callback that closed it ends the dispatch
  uint32_t interest_ = 0;
  int last_errno_ = 0;
  State state_ = State::kClosed;
  bool shutdown_wanted_ = false;
  bool shutdown_done_ = false;
  std::string out_;  // plaintext
  size_t out_pos_ = 0;
  std::string cipher_;  // TLS only: ciphertext to send
  size_t cipher_pos_ = 0;
  std::unique_ptr<TlsClientSession> tls_;
};

}  // namespace herald::client
