#include "herald/client/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>

namespace herald::client {
namespace {

// Plaintext is taken from OpenSSL a record at a time.
constexpr size_t kReadChunk = 16384;
// SSL_write takes an int; large sends are encrypted in pieces.
constexpr size_t kWriteChunk = 1u << 20;

// The reason of the oldest queued OpenSSL error, and the queue emptied (it is per thread and
// would otherwise be blamed on the next connection of the loop).
std::string take_openssl_error() {
  unsigned long code = ERR_get_error();
  std::string out;
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    out = reason != nullptr ? reason : "error " + std::to_string(code);
  }
  ERR_clear_error();
  return out;
}

// ---- the BIO: reads from TlsClientSession::Io::in, appends to *Io::out ----

int bio_write(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  auto* io = static_cast<TlsClientSession::Io*>(BIO_get_data(bio));
  if (io->out == nullptr || len < 0) {
    BIO_set_retry_write(bio);  // outside a call of the session: cannot happen
    return -1;
  }
  io->out->append(data, static_cast<size_t>(len));
  return len;
}

int bio_read(BIO* bio, char* data, int len) {
  BIO_clear_retry_flags(bio);
  auto* io = static_cast<TlsClientSession::Io*>(BIO_get_data(bio));
  if (io->in_size == 0 || len <= 0) {
    BIO_set_retry_read(bio);  // every byte given is consumed: WANT_READ
    return -1;
  }
  size_t n = std::min(io->in_size, static_cast<size_t>(len));
  std::copy_n(io->in, n, data);
  io->in += n;
  io->in_size -= n;
  return static_cast<int>(n);
}

long bio_ctrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* bio_method() {
  // Made once per process (thread-safe static initialisation), never freed.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "herald-client");
    if (m != nullptr) {
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_ctrl(m, bio_ctrl);
      BIO_meth_set_create(m, bio_create);
    }
    return m;
  }();
  return method;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

// ---- TlsClientContext ----

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::create(
    const TlsOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return Error{"TLS: cannot create a context: " + take_openssl_error()};
  }
  std::shared_ptr<const TlsClientContext> out(new TlsClientContext(ctx, options.verify));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // The TLS 1.3 suites in the order browsers offer them (OpenSSL's own order puts AES-256
  // first): a server that follows the client's order then uses what it would with a browser,
  // and two servers measured side by side use the same cipher.
  SSL_CTX_set_ciphersuites(ctx,
                           "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                           "TLS_AES_256_GCM_SHA384");
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Idle connections give back their 16 KiB record buffers (thousands in a benchmark).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!options.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return out;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Error{"TLS: cannot load the system's certificate store: " + take_openssl_error()};
    }
    return out;
  }
  if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    std::string why = take_openssl_error();
    return Error{"--ca-file " + options.ca_file + ": " +
                 (why.empty() ? std::string("no certificate in it") : why)};
  }
  return out;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

// ---- TlsClientSession ----

std::unique_ptr<TlsClientSession> TlsClientSession::create(const TlsClientContext& ctx,
                                                           std::string_view host,
                                                           std::string_view alpn) {
  BIO_METHOD* method = bio_method();
  if (method == nullptr) {
    return nullptr;
  }
  SSL* ssl = SSL_new(ctx.native());  // takes a reference to the SSL_CTX
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  std::unique_ptr<TlsClientSession> s(new TlsClientSession(ssl));
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_data(bio, &s->io_);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO now (one reference, used both ways)
  SSL_set_connect_state(ssl);
  std::string name(host);
  bool ok = true;
  if (is_ip_literal(name)) {
    // No SNI for an address (RFC 6066 3); the certificate must list it as an IP SAN.
    if (ctx.verifies()) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    }
  } else if (!name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name.data()) == 1;
    if (ok && ctx.verifies()) {
      // Wildcards only as the whole leftmost label, never a partial one (f*.example.com).
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(ssl, name.c_str()) == 1;
    }
  }
  if (ok && !alpn.empty() && alpn.size() < 256) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire.append(alpn);
    // Returns 0 on success (unlike the rest of the API).
    ok = SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                             static_cast<unsigned>(wire.size())) == 0;
  }
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  return s;
}

TlsClientSession::~TlsClientSession() {
  SSL_free(ssl_);
}

TlsClientSession::Status TlsClientSession::start(std::string& out) {
  io_ = Io{nullptr, 0, &out};
  Status s = advance_handshake();
  io_ = Io{};
  return s;
}

TlsClientSession::Status TlsClientSession::advance_handshake() {
  if (handshake_done_) {
    return Status::kOk;
  }
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return Status::kOk;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) {
    return Status::kOk;  // waiting for the server's next flight
  }
  return fail(e);
}

TlsClientSession::Status TlsClientSession::feed(std::string_view cipher, std::string& plain,
                                                std::string& out) {
  if (failed_) {
    return Status::kError;
  }
  if (closed_) {
    return Status::kClosed;  // nothing after close_notify counts
  }
  io_ = Io{cipher.data(), cipher.size(), &out};
  Status s = advance_handshake();
  char buf[kReadChunk];
  while (s == Status::kOk && handshake_done_) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, static_cast<int>(sizeof(buf)));
    if (n > 0) {
      plain.append(buf, static_cast<size_t>(n));
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ) {
      break;  // all of cipher is consumed; a partial record waits inside the SSL
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
      closed_ = true;
      s = Status::kClosed;
      break;
    }
    s = fail(e);
  }
  io_ = Io{};
  return s;
}

TlsClientSession::Status TlsClientSession::encrypt(std::string_view plain, std::string& out) {
  if (failed_ || !handshake_done_) {
    return Status::kError;
  }
  io_ = Io{nullptr, 0, &out};
  Status s = Status::kOk;
  while (!plain.empty()) {
    size_t n = std::min(plain.size(), kWriteChunk);
    ERR_clear_error();
    int r = SSL_write(ssl_, plain.data(), static_cast<int>(n));
    if (r <= 0) {
      s = fail(SSL_get_error(ssl_, r));
      break;
    }
    plain.remove_prefix(static_cast<size_t>(r));
  }
  io_ = Io{};
  return s;
}

void TlsClientSession::close_notify(std::string& out) {
  if (!handshake_done_ || failed_ || close_sent_) {
    return;
  }
  close_sent_ = true;
  io_ = Io{nullptr, 0, &out};
  ERR_clear_error();
  SSL_shutdown(ssl_);  // 0: sent, the server's close_notify not seen yet; either is fine
  ERR_clear_error();
  io_ = Io{};
}

std::string TlsClientSession::alpn_selected() const {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), len);
}

std::string TlsClientSession::version() const {
  return SSL_get_version(ssl_);
}

std::string TlsClientSession::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c == nullptr ? std::string() : std::string(SSL_CIPHER_get_name(c));
}

TlsClientSession::Status TlsClientSession::fail(int ssl_error) {
  failed_ = true;
  long verify = SSL_get_verify_result(ssl_);
  std::string reason = take_openssl_error();
  bool verifying = (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0;
  if (!handshake_done_ && verifying && verify != X509_V_OK) {
    error_ = "certificate verify failed: ";
    error_ += X509_verify_cert_error_string(verify);
  } else if (!reason.empty()) {
    error_ = reason;
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    error_ = "unexpected end of the TLS stream";
  } else {
    error_ = "TLS error " + std::to_string(ssl_error);
  }
  return Status::kError;
}

}  // namespace herald::client
