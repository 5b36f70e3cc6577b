#pragma once
// Test helpers for TLS: throwaway self-signed certificates made with OpenSSL's API (no openssl
// CLI needed), a temporary directory for PEM files, and a client-side SSL_CTX that trusts one
// certificate. Thread: any (each call builds its own objects).

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace herald::net::testing {

struct PemPair {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

inline std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A P-256 key and a self-signed certificate for CN=cn with that serial, valid for a day, with
// subjectAltName san (default IP:127.0.0.1 and DNS:localhost). passphrase: the key is written
// encrypted.
inline PemPair make_cert(const std::string& cn, long serial, const char* passphrase = nullptr,
                         const char* san = "IP:127.0.0.1,DNS:localhost") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (key == nullptr || x == nullptr) {
    throw std::runtime_error("cannot make a test key");
  }
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, key, EVP_sha256());
  PemPair out;
  BIO* c = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(c, x);
  out.cert = bio_to_string(c);
  BIO_free(c);
  BIO* k = BIO_new(BIO_s_mem());
  if (passphrase != nullptr) {
    PEM_write_bio_PrivateKey(k, key, EVP_aes_128_cbc(), nullptr, 0, nullptr,
                             const_cast<char*>(passphrase));
  } else {
    PEM_write_bio_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  out.key = bio_to_string(k);
  BIO_free(k);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// A directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/herald-tls-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::string path_;
};

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ClientCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A client context that trusts exactly ca_pem. max_version 0: TLS 1.2 and 1.3; TLS1_1_VERSION
// also lowers the client's security level so that it really offers TLS 1.1.
inline ClientCtx client_ctx(const std::string& ca_pem, int max_version = 0) {
  ClientCtx ctx(SSL_CTX_new(TLS_client_method()));
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca);
  X509_free(ca);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (max_version != 0) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.get(), max_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  }
  return ctx;
}

}  // namespace herald::net::testing
