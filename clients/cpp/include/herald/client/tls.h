#pragma once
// Client TLS with OpenSSL, without I/O. TlsOptions says what to trust; TlsClientContext is one
// SSL_CTX made from them and shared by every connection of a process (a benchmark opens
// thousands); TlsClientSession is one connection's SSL: ciphertext from the server goes in as
// bytes and comes out as plaintext, plaintext goes in and comes out as ciphertext appended to the
// caller's buffer. The Socket makes the socket calls, so the handshake runs inside the loop
// without blocking, and tests drive a session with bytes alone. Written independently of
// src/net (the measuring side shares no code with the server).
//
// Verification is on by default: the chain must lead to a trusted certificate (the system's
// store, or --ca-file) and the certificate must name the URL's host (a DNS name, or an IP
// address for a literal). TLS 1.2 and 1.3 only, as the server.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

struct ssl_ctx_st;
struct ssl_st;

namespace herald::client {

struct TlsOptions {
  // PEM file of the certificates to trust (a CA, or a self-signed server certificate).
  // Empty: the system's store (Debian's ca-certificates).
  std::string ca_file;
  // Check the chain and the host name. Off, anyone on the path can read and change the
  // connection: only for a test server whose certificate the client cannot have.
  bool verify = true;
};

// One SSL_CTX. Immutable once made. Thread: any (sessions of several threads share it).
class TlsClientContext {
 public:
  // Loads the trust store; the error names the file and why (missing, not PEM...).
  static Result<std::shared_ptr<const TlsClientContext>> create(const TlsOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  bool verifies() const { return verify_; }

 private:
  TlsClientContext(ssl_ctx_st* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  ssl_ctx_st* ctx_;
  bool verify_;
};

// The client side of one TLS connection. Its BIO reads only the bytes given to feed() and
// appends what OpenSSL writes to the caller's string, so OpenSSL never waits for the socket:
// a partial record stays inside the SSL until the rest is fed. Every method appends the
// ciphertext to send (handshake messages, records, alerts) to `out`.
// Owned by one Socket. Thread: its loop's thread only.
class TlsClientSession {
 public:
  enum class Status : uint8_t {
    kOk,      // go on (the handshake may still be in progress: handshake_done())
    kClosed,  // the server sent close_notify
    kError,   // the handshake failed or a record was bad: error() says why; close the socket
  };

  // A session that will verify the certificate against host (a name or an IP literal, sent as
  // SNI when it is a name) and offer alpn when not empty ("http/1.1" for a WebSocket).
  // nullptr when OpenSSL cannot allocate one.
  static std::unique_ptr<TlsClientSession> create(const TlsClientContext& ctx,
                                                  std::string_view host, std::string_view alpn);
  ~TlsClientSession();
  TlsClientSession(const TlsClientSession&) = delete;
  TlsClientSession& operator=(const TlsClientSession&) = delete;

  // Writes the ClientHello.
  Status start(std::string& out);
  // Consumes all of cipher: advances the handshake, then appends the plaintext to plain.
  Status feed(std::string_view cipher, std::string& plain, std::string& out);
  // Encrypts plain (only once handshake_done()).
  Status encrypt(std::string_view plain, std::string& out);
  // Appends close_notify once, after a completed handshake.
  void close_notify(std::string& out);

  bool handshake_done() const { return handshake_done_; }
  bool failed() const { return failed_; }
  // Why it failed: the certificate check ("certificate verify failed: self-signed certificate")
  // or OpenSSL's reason ("wrong version number" for a server that does not speak TLS).
  const std::string& error() const { return error_; }
  // The protocol the server chose by ALPN (empty: none).
  std::string alpn_selected() const;
  // The negotiated version and cipher suite ("TLSv1.3", "TLS_AES_128_GCM_SHA256").
  std::string version() const;
  std::string cipher() const;

  // The BIO's view of the current call (public for the BIO callbacks in tls.cpp only).
  struct Io {
    const char* in = nullptr;
    size_t in_size = 0;
    std::string* out = nullptr;
  };

 private:
  explicit TlsClientSession(ssl_st* ssl) : ssl_(ssl) {}
  Status advance_handshake();
  Status fail(int ssl_error);

  ssl_st* ssl_;
  Io io_;
  bool handshake_done_ = false;
  bool failed_ = false;
  bool closed_ = false;
  bool close_sent_ = false;
  std::string error_;
};

}  // namespace herald::client
