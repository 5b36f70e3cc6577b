#include "net/tls_context.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace herald::net {
namespace {

// TLS 1.2: ECDHE (forward secrecy) with AEAD ciphers only, the server's order (Mozilla's
// "intermediate" list without the finite-field DHE suites, which need parameters of their own).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr char kGroups[] = "X25519:P-256:P-384";
// A certificate chain or key file larger than this is not a certificate chain or key.
constexpr size_t kMaxPemFile = 1 << 20;

// RFC 7301 3.2: pick http/1.1 from the client's list; a client that offers only protocols we do
// not speak (h2 alone) gets the fatal no_application_protocol alert the RFC asks for, rather
// than a connection it cannot use. A client that offers no ALPN never gets here (no ALPN then).
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                const unsigned char* in, unsigned int in_len, void* /*arg*/) {
  static constexpr std::string_view kHttp11 = "http/1.1";
  unsigned int i = 0;
  while (i < in_len) {
    unsigned int len = in[i];
    if (len == 0 || len > in_len - i - 1) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;  // malformed list (OpenSSL checks it first, too)
    }
    std::string_view proto(reinterpret_cast<const char*>(in + i + 1), len);
    if (proto == kHttp11) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// An encrypted key would make OpenSSL prompt on the terminal: refuse instead.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

// The reason of OpenSSL's most recent error, then clears the thread's error queue.
std::string openssl_reason(const char* fallback) {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : fallback;
}

// Reads a whole (small) file, so that errors carry errno ("Permission denied", "Is a
// directory") rather than whatever the PEM reader makes of an empty read.
Result<std::string> read_file(const std::string& what, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error{what + " " + path + ": " + std::strerror(errno)};
  }
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Error{what + " " + path + ": " + std::strerror(err)};
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxPemFile) {
      ::close(fd);
      return Error{what + " " + path + ": larger than 1 MiB, not a PEM file"};
    }
  }
  ::close(fd);
  return text;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// "subject CN=example.com, serial 1A2B, not after 2027-01-01 00:00:00Z".
std::string describe_certificate(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return "certificate";
  }
  BIO_puts(bio.get(), "subject ");
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  BIO_puts(bio.get(), ", serial ");
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr); bn != nullptr) {
    if (char* hex = BN_bn2hex(bn); hex != nullptr) {
      BIO_puts(bio.get(), hex);
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  BIO_puts(bio.get(), ", not after ");
  ASN1_TIME_print_ex(bio.get(), X509_get0_notAfter(cert), ASN1_DTFLGS_ISO8601);
  std::string text = bio_text(bio.get());
  ERR_clear_error();
  return text;
}

bool looks_encrypted(const std::string& pem) {
  return pem.find("ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
}

// The certificate chain: the leaf first, then the intermediates (what
// SSL_CTX_use_certificate_chain_file does, from memory and with our own error lines).
Result<X509Ptr> use_chain(SSL_CTX* ctx, const std::string& setting, const std::string& path,
                          const std::string& pem) {
  const std::string what = setting + " " + path + ": ";
  BioPtr bio = memory_bio(pem);
  ERR_clear_error();
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr));
  if (!leaf) {
    if (pem.find("CERTIFICATE-----") == std::string::npos) {
      ERR_clear_error();
      return Error{what + "no PEM certificate in it"};
    }
    return Error{what + "unreadable certificate (" + openssl_reason("bad PEM") + ")"};
  }
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return Error{what + "certificate refused: " + openssl_reason("unusable")};
  }
  for (;;) {
    X509Ptr extra(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!extra) {
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the end of the file
        break;
      }
      return Error{what + "bad certificate in the chain: " + openssl_reason("unreadable")};
    }
    if (SSL_CTX_add0_chain_cert(ctx, extra.get()) != 1) {
      return Error{what + "chain certificate refused: " + openssl_reason("unusable")};
    }
    (void)extra.release();  // add0: the context owns it now
  }
  return leaf;
}

Result<Ok> use_key(SSL_CTX* ctx, X509* leaf, const std::string& prefix,
                   const std::string& cert_path, const std::string& key_path,
                   const std::string& pem) {
  const std::string what = prefix + "tls_key " + key_path;
  if (looks_encrypted(pem)) {
    return Error{what + ": encrypted keys are not supported (decrypt it with `openssl pkey -in " +
                 key_path + " -out PLAIN.pem`)"};
  }
  BioPtr bio = memory_bio(pem);
  ERR_clear_error();
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    if (pem.find("PRIVATE KEY-----") == std::string::npos) {
      ERR_clear_error();
      return Error{what + ": no PEM private key in it"};
    }
    return Error{what + ": unreadable private key (" + openssl_reason("bad PEM") + ")"};
  }
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return Error{what + " does not match the certificate in " + prefix + "tls_cert " + cert_path};
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    return Error{what + ": key refused: " + openssl_reason("unusable")};
  }
  return Ok{};
}

// What both roles share: TLS 1.2 and 1.3, the AEAD suites and groups above, no renegotiation (a
// peer-driven CPU cost, and a TLS 1.2 attack surface), no compression, and no 16 KiB read and
// write buffers kept while a connection is idle.
Result<Ok> set_protocols(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return Error{"TLS: cipher configuration refused: " + openssl_reason("unknown")};
  }
  return Ok{};
}

// The CA certificates a client context trusts: every certificate of the PEM file (from memory,
// so that errors are ours), or the system's store when no file is configured.
Result<std::string> use_cas(SSL_CTX* ctx, const std::string& setting, const std::string& path) {
  if (path.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Error{"TLS: cannot load the system's certificate store: " + openssl_reason("unknown")};
    }
    return std::string("the system's CA certificates");
  }
  auto pem = read_file(setting, path);
  if (!pem) {
    return Error{pem.error()};
  }
  BioPtr bio = memory_bio(*pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  ERR_clear_error();
  for (;;) {
    X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!ca) {
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      return Error{setting + " " + path + ": unreadable certificate (" + openssl_reason("bad PEM") +
                   ")"};
    }
    if (X509_STORE_add_cert(store, ca.get()) != 1) {
      return Error{setting + " " + path + ": certificate refused: " + openssl_reason("unusable")};
    }
    ++count;
  }
  if (count == 0) {
    return Error{setting + " " + path + ": no PEM certificate in it"};
  }
  return "CA " + path + " (" + std::to_string(count) +
         (count == 1 ? " certificate)" : " certificates)");
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::make(const SSL_METHOD* method) {
  SSL_CTX* raw = SSL_CTX_new(method);
  if (raw == nullptr) {
    return Error{"TLS: cannot create a context: " + openssl_reason("out of memory")};
  }
  std::shared_ptr<TlsContext> tls(new TlsContext(raw));  // frees raw from here on
  if (auto r = set_protocols(tls->ctx_); !r) {
    return Error{r.error()};
  }
  return tls;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::load_client(const ClientFiles& files) {
  const std::string& prefix = files.setting_prefix;
  if (files.cert_file.empty() != files.key_file.empty()) {
    return Error{prefix + "tls_cert and " + prefix + "tls_key go together: set both or neither"};
  }
  auto made = make(TLS_client_method());
  if (!made) {
    return Error{made.error()};
  }
  std::shared_ptr<TlsContext> tls = std::move(*made);
  SSL_CTX* ctx = tls->ctx_;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  // The handshake fails unless the peer's chain leads to a trusted CA; the name is checked per
  // connection (TlsSession::create_client).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  auto cas = use_cas(ctx, prefix + "tls_ca", files.ca_file);
  if (!cas) {
    return Error{cas.error()};
  }
  tls->description_ = *cas;
  if (!files.cert_file.empty()) {
    auto cert_pem = read_file(prefix + "tls_cert", files.cert_file);
    if (!cert_pem) {
      return Error{cert_pem.error()};
    }
    auto key_pem = read_file(prefix + "tls_key", files.key_file);
    if (!key_pem) {
      return Error{key_pem.error()};
    }
    auto leaf = use_chain(ctx, prefix + "tls_cert", files.cert_file, *cert_pem);
    if (!leaf) {
      return Error{leaf.error()};
    }
    if (auto r = use_key(ctx, leaf->get(), prefix, files.cert_file, files.key_file, *key_pem); !r) {
      return Error{r.error()};
    }
    tls->description_ += ", client certificate " + describe_certificate(leaf->get());
  }
  return std::shared_ptr<const TlsContext>(std::move(tls));
}

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto cert_pem = read_file("tls_cert", cert_file);
  if (!cert_pem) {
    return Error{cert_pem.error()};
  }
  auto key_pem = read_file("tls_key", key_file);
  if (!key_pem) {
    return Error{key_pem.error()};
  }
  auto made = make(TLS_server_method());
  if (!made) {
    return Error{made.error()};
  }
  std::shared_ptr<TlsContext> tls = std::move(*made);
  SSL_CTX* ctx = tls->ctx_;
  // Server order, but a client that puts ChaCha20 first (no AES hardware: phones) gets it.
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  // Resumption through stateless tickets (keys of this context, shared by every loop); no
  // server-side session cache, whose lock every loop would take on each handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

  auto leaf = use_chain(ctx, "tls_cert", cert_file, *cert_pem);
  if (!leaf) {
    return Error{leaf.error()};
  }
  if (auto r = use_key(ctx, leaf->get(), "", cert_file, key_file, *key_pem); !r) {
    return Error{r.error()};
  }
  tls->description_ = describe_certificate(leaf->get());
  return std::shared_ptr<const TlsContext>(std::move(tls));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace herald::net
