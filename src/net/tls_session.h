#pragma once
// TlsSession: one TLS connection, without I/O: the server side of an accepted one (create), or
// the client side of one Herald makes (create_client: to Redis over rediss://, to a webhook
// receiver over https://). Ciphertext from
// the peer goes in as bytes (give_input) and comes out as plaintext in the caller's buffer
// (read); plaintext goes in as gathered pieces (encrypt) and comes out as ciphertext to send
// (output, consume_output). A net::Stream (server) or a net::ClientSocket (client: Redis,
// webhooks) owns one per TLS connection and makes the socket calls, so the handshake runs inside
// the event loop without blocking; tests and fuzzers drive it with bytes.
//
// Its BIO never blocks: reads take from the bytes given, writes append to an output buffer that
// is borrowed from the loop's pool only while it holds bytes. OpenSSL therefore never waits for
// writability (no SSL_ERROR_WANT_WRITE), and WANT_READ always means "every byte given has been
// consumed; a partial record is kept inside the SSL object". Owned by its Stream.
// Thread: owning loop only.

#include <openssl/ssl.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/tls_context.h"

namespace herald::net {

class TlsSession {
 public:
  // Largest plaintext of one TLS record: small writes are gathered into records of this size.
  static constexpr size_t kMaxRecord = 16384;

  enum class Status : uint8_t {
    kOk,        // the output buffer is full: call read() again
    kWantRead,  // every byte given was consumed; more must come from the peer
    kClosed,    // the peer sent close_notify
    kError,     // the handshake failed or a record was bad: send output() (an alert), close
  };
  struct ReadResult {
    size_t bytes;  // plaintext written to out
    Status status;
  };

  // A session for one accepted connection, made from ctx (which it keeps a reference to, so a
  // reload does not affect it); its output buffers come from loop's pool. nullptr if OpenSSL
  // cannot allocate one.
  static std::unique_ptr<TlsSession> create(const TlsContext& ctx, EventLoop& loop);
  // The client side of a connection to `host` (a DNS name: sent as SNI, and the certificate must
  // name it; an IP address: the certificate must list it as an IP SAN), from a client context
  // (TlsContext::load_client). The first read() (with no input) puts the ClientHello in output().
  // nullptr if OpenSSL cannot allocate one or refuses the name.
  static std::unique_ptr<TlsSession> create_client(const TlsContext& ctx, EventLoop& loop,
                                                   const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Ciphertext received from the peer. It must stay valid until read() has returned kWantRead
  // (it is then consumed entirely), or until drop_input().
  void give_input(const uint8_t* data, size_t size) {
    in_ = data;
    in_size_ = size;
  }
  void drop_input() { in_size_ = 0; }
  // Advances the handshake while it is not done, then decrypts into out (up to cap bytes).
  // May append to output() (handshake messages, tickets, alerts) whatever the status.
  ReadResult read(uint8_t* out, size_t cap);

  bool handshake_done() const { return handshake_done_; }
  // Encrypts up to max_bytes of the pieces, in order, into output(). Pieces smaller than a
  // record are copied together into full records (a per-thread buffer); a piece with a whole
  // record's worth left is encrypted where it lies. The last, partial record is kept for the
  // next call, so that pieces handed over in several calls (a gather is at most 256 buffers)
  // still share records: finish_records() must follow before output() is sent, and before
  // another session of this thread encrypts. Returns the plaintext bytes taken, kept ones
  // included. Only after the handshake; on an OpenSSL failure failed() turns true and the
  // session must be closed.
  size_t encrypt(const iovec* pieces, int count, size_t max_bytes);
  // Encrypts the partial record that encrypt() kept, if any.
  void finish_records();
  // Appends close_notify to output() once, after a completed handshake. False when there is
  // nothing to send (no handshake yet, a failed session, or already sent).
  bool close_notify();
  bool failed() const { return failed_; }

  // Ciphertext to send, in order.
  std::string_view output() const {
    return out_ == nullptr ? std::string_view() : std::string_view(*out_).substr(out_sent_);
  }
  size_t output_size() const { return out_ == nullptr ? 0 : out_->size() - out_sent_; }
  // n bytes of output() were sent.
  void consume_output(size_t n);

  // The protocol chosen by ALPN ("http/1.1"), empty when the client offered none.
  std::string_view alpn() const;
  // The TLS version negotiated ("TLSv1.3"), for tests and logs.
  const char* version() const { return SSL_get_version(ssl_); }
  // OpenSSL's reason for the last failure ("unsupported protocol", "wrong version number").
  const char* error_reason() const;
  // The failure in a line for a log: the reason, and for a certificate the peer's chain failed
  // verification on, why ("certificate verify failed: unable to get local issuer certificate").
  std::string failure() const;

 private:
  friend struct TlsBio;
  TlsSession(SSL* ssl, EventLoop& loop) : ssl_(ssl), loop_(&loop) {}
  Status fail();
  void append_output(const char* data, size_t size);
  size_t take_input(char* data, size_t size);
  bool write_record(const char* data, size_t size);

  SSL* ssl_;
  EventLoop* loop_;
  const uint8_t* in_ = nullptr;
  size_t in_size_ = 0;
  std::string* out_ = nullptr;  // borrowed from the loop's pool while it holds bytes
  size_t out_sent_ = 0;
  unsigned long error_ = 0;  // OpenSSL error code of the failure
  uint16_t staged_ = 0;      // bytes of the per-thread record buffer that are ours
  bool handshake_done_ = false;
  bool failed_ = false;
  bool close_notify_sent_ = false;
};

}  // namespace herald::net
