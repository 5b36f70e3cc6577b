#pragma once
// TlsContext: the server's TLS configuration, one OpenSSL SSL_CTX loaded from a certificate chain
// and a private key (PEM files): TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy in the
// server's order, ALPN http/1.1, resumption by session tickets (no shared session cache, so no
// lock is taken between loops during a handshake), and read/write buffers released while a
// connection is idle.
//
// Immutable once loaded; reloading (SIGHUP) loads a new TlsContext and each loop swaps its
// shared_ptr through its post() queue. A connection's SSL object holds its own reference to the
// SSL_CTX it was made from, so connections made before a reload keep working after the old
// TlsContext is released. Thread: any (load() is blocking file I/O: never call it on a loop).

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace herald::net {

class TlsContext {
 public:
  // Loads and checks the pair. Errors are one line naming the file and what is wrong with it:
  // "tls_cert /x.pem: No such file or directory", "tls_key /k.pem does not match the
  // certificate in tls_cert /c.pem", "tls_key /k.pem: encrypted keys are not supported"...
  static Result<std::shared_ptr<const TlsContext>> load(const std::string& cert_file,
                                                        const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  // The leaf certificate in one line, for logs: "subject CN=example.com, serial 1A2B, not after
  // 2027-01-01 00:00:00 UTC".
  const std::string& description() const { return description_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}

  SSL_CTX* ctx_;
  std::string description_;
};

}  // namespace herald::net
