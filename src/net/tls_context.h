#pragma once
// TlsContext: one OpenSSL SSL_CTX with Herald's TLS settings (TLS 1.2 and 1.3 only, AEAD ciphers
// with forward secrecy, read/write buffers released while a connection is idle), loaded from PEM
// files, in one of two roles:
//  - load(): the server's, from a certificate chain and a private key: the server's cipher order,
//    ALPN http/1.1, resumption by session tickets (no shared session cache, so no lock is taken
//    between loops during a handshake);
//  - load_client(): a client's (Herald connecting out, e.g. to Redis over rediss://): the peer's
//    certificate must chain to the configured CA file (or the system's store) and name the host
//    (TlsSession::create_client checks the name), with an optional client certificate for
//    servers that require one.
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
  // What a client context verifies and presents. Errors name the settings as
  // "<setting_prefix>tls_ca", "<setting_prefix>tls_cert" and "<setting_prefix>tls_key".
  struct ClientFiles {
    std::string ca_file;    // PEM CA certificates; empty: the system's certificate store
    std::string cert_file;  // optional client certificate chain (PEM), together with key_file
    std::string key_file;
    std::string setting_prefix;  // "redis_": errors say "redis_tls_ca /x.pem: ..."
  };
  // Loads a client context: peer verification is always on. Errors are one line naming the
  // setting and the file, as load()'s.
  static Result<std::shared_ptr<const TlsContext>> load_client(const ClientFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  // The leaf certificate in one line, for logs: "subject CN=example.com, serial 1A2B, not after
  // 2027-01-01 00:00:00 UTC" (a client context: its CA file and its certificate, if any).
  const std::string& description() const { return description_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  // A context of either role with Herald's protocol versions (TLS 1.2 and 1.3) and ciphers.
  static Result<std::shared_ptr<TlsContext>> make(const SSL_METHOD* method);

  SSL_CTX* ctx_;
  std::string description_;
};

}  // namespace herald::net
