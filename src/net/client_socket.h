#pragma once
// ClientSocket: one outgoing TCP connection Herald makes (to Redis: broker::RedisConnection; to a
// webhook receiver: pusher::HttpPost), non-blocking on one event loop, plain or TLS. It connects,
// runs the TLS client handshake inside the loop when given a client TlsContext (SNI, and the
// peer's certificate checked against the CA and the host: TlsSession::create_client), then
// carries bytes both ways: what the owner writes during a loop turn leaves together at the end of
// it (one send; with TLS, one batch of full records), and what arrives reaches the owner as
// plaintext, the same with TLS as without.
//
// It never throws and never waits: every way a connection ends is one Listener::on_closed() with
// a named End and a line for a log ("connect to 127.0.0.1:6379: Connection refused", "TLS
// handshake failed: certificate verify failed: hostname mismatch"). Deadlines are the owner's: it
// close()s when its own timer says so, and phase() tells it what was being waited for. The one
// blocking call is getaddrinfo for a host that is a name (a numeric address needs no lookup), so
// a ClientSocket to a named host belongs on a loop that serves no clients (Redis's, the
// webhooks').
//
// Like every IoHandler that asks for an end-of-turn flush, it must not be destroyed during a
// loop turn in which it was written to: owners keep it as a member and reuse it.
// Thread: owning loop only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/tls_context.h"
#include "net/tls_session.h"

namespace herald::net {

class ClientSocket final : public IoHandler {
 public:
  // Why a connection ended.
  enum class End : uint8_t {
    kPeerClosed,    // the peer closed it: FIN (after the handshake), or TLS close_notify
    kConnect,       // the TCP connect failed: refused, unreachable
    kTlsHandshake,  // the TLS handshake failed: certificate refused (another CA, another name),
                    // an alert, a reset or a close before it completed
    kTls,           // a bad TLS record (or an alert) after the handshake
    kIo,            // recv or send failed after the connection was open (a reset)
  };
  // Where a connection is.
  enum class Phase : uint8_t {
    kClosed,
    kConnecting,    // the TCP connect
    kTlsHandshake,  // TLS: connected, the handshake in progress
    kOpen,          // bytes flow
  };

  // What the owner is told. Called by the loop (its I/O dispatch, or the end-of-turn flush when
  // a send fails), never inside connect(), write() or close(). The owner may write, close or
  // reconnect the socket inside them, but must not destroy it.
  class Listener {
   public:
    virtual ~Listener() = default;
    // Connected (and with TLS, the peer's certificate accepted): what was written before now
    // leaves.
    virtual void on_open(ClientSocket& socket) = 0;
    // Plaintext from the peer, in the loop's read buffer: valid during the call only.
    virtual void on_data(ClientSocket& socket, const uint8_t* data, size_t size) = 0;
    // The connection ended; the socket is closed already (phase() is kClosed). Once per
    // connect() that returned true, unless the owner close()d it first.
    virtual void on_closed(ClientSocket& socket, End end, const std::string& why) = 0;
  };

  ClientSocket(EventLoop& loop, Listener& listener) : loop_(loop), listener_(listener) {}
  ~ClientSocket() override;
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;

  // Starts connecting to host:port (a name, an IPv4 or an IPv6 address without brackets), over
  // TLS when tls is a client context (TlsContext::load_client): its SNI and the name the
  // certificate must hold are `host`. A connection still open is closed first, without a
  // callback. False when it failed at once, with no callback to come: the name did not
  // resolve, no socket, a connect refused synchronously; error() says why.
  bool connect(const std::string& host, uint16_t port, const TlsContext* tls);
  // Queues bytes. While open they leave at the end of this loop turn; before, once open.
  // Dropped when the socket is closed.
  void write(std::string_view bytes);
  // Closes now, without a callback; queued bytes are dropped. After a TLS handshake,
  // close_notify is sent if the socket takes it at once.
  void close();

  Phase phase() const { return phase_; }
  bool is_open() const { return phase_ == Phase::kOpen; }
  // Why the last connect() returned false.
  const std::string& error() const { return error_; }
  // "host:port" of the last connect() ("[::1]:443" for IPv6), for log lines.
  const std::string& peer() const { return peer_; }
  // Bytes written but not yet sent (with TLS: plaintext not yet encrypted, and ciphertext).
  size_t buffered() const { return out_.size() + (tls_ != nullptr ? tls_->output_size() : 0); }
  // The TLS version negotiated ("TLSv1.3"), "" without TLS or before the handshake.
  std::string tls_version() const;

  void on_io(uint32_t events) override;
  void on_flush() override;

 private:
  void connected();
  void read_ready();
  // Ciphertext from the peer: advances the handshake and decrypts into on_data().
  void tls_input(const uint8_t* data, size_t size);
  void write_out();
  // Sends what the socket takes now; false when the send failed (the socket is then closed
  // and the listener told).
  bool send_bytes(std::string_view bytes, size_t& sent);
  void set_want_write(bool want);
  // Closes the socket (no close_notify), then tells the listener.
  void end(End end, const std::string& why);
  void close_fd();

  EventLoop& loop_;
  Listener& listener_;
  int fd_ = -1;
  Phase phase_ = Phase::kClosed;
  bool want_write_ = false;  // EPOLLOUT is in the interest set
  bool flush_scheduled_ = false;
  // Bumped by every close: a callback that closed (or reconnected) the socket ends the work
  // of the call that made it.
  uint64_t generation_ = 0;
  std::string out_;                  // plaintext not yet sent (TLS: not yet encrypted)
  std::unique_ptr<TlsSession> tls_;  // while a TLS connection is open or opening
  std::string peer_;
  std::string error_;
};

// The name of an End for logs and tests ("peer closed", "connect", "tls handshake", ...).
const char* describe(ClientSocket::End end);

}  // namespace herald::net
