#pragma once
// Keys made by the tests themselves (OpenSSL's own generators), written out the ways a backend
// or an identity provider publishes them: PEM (SPKI, PKCS#1, a certificate) and JWK members.
// Generated once per test binary: RSA key generation takes a while.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "auth/base64url.h"
#include "auth/signer.h"

namespace herald::auth::testing {

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

inline std::string b64u(std::string_view bytes) {
  std::string out;
  append_base64url(out, bytes);
  return out;
}

// One generated key pair in every form the tests need.
struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string private_pem;  // PKCS#8 "PRIVATE KEY"
  std::string public_pem;   // SPKI "PUBLIC KEY"

  // RSA: "n", "e"; EC: "x", "y" (base64url), as a JWK's members.
  std::string bn_b64(const char* param) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey.get(), param, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return b64u(bytes);
  }
  std::string coordinate_b64(const char* param) const {  // EC x or y, padded to 32 bytes
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey.get(), param, &bn);
    std::string bytes(32, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), 32);
    BN_free(bn);
    return b64u(bytes);
  }
  // The public JWK, with `extra` members spliced in (e.g. R"("kid":"a",)").
  std::string jwk(std::string_view extra = {}) const {
    if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_RSA) {
      return "{" + std::string(extra) + R"("kty":"RSA","n":")" + bn_b64(OSSL_PKEY_PARAM_RSA_N) +
             R"(","e":")" + bn_b64(OSSL_PKEY_PARAM_RSA_E) + "\"}";
    }
    return "{" + std::string(extra) + R"("kty":"EC","crv":"P-256","x":")" +
           coordinate_b64(OSSL_PKEY_PARAM_EC_PUB_X) + R"(","y":")" +
           coordinate_b64(OSSL_PKEY_PARAM_EC_PUB_Y) + "\"}";
  }
  // PKCS#1 "RSA PUBLIC KEY" (RSA keys only).
  std::string pkcs1_public_pem() const {
    unsigned char* der = nullptr;
    int size = i2d_PublicKey(pkey.get(), &der);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio(bio, "RSA PUBLIC KEY", "", der, size);
    OPENSSL_free(der);
    return bio_text(bio);
  }
  // A self-signed certificate of the key.
  std::string certificate_pem() const {
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, pkey.get());
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("herald test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, pkey.get(), EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    X509_free(cert);
    return bio_text(bio);
  }
  TokenSigner signer() const { return *TokenSigner::from_private_pem(private_pem); }
};

inline TestKey make_key(EVP_PKEY* pkey) {
  TestKey k;
  k.pkey = std::shared_ptr<EVP_PKEY>(pkey, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  k.private_pem = bio_text(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, pkey);
  k.public_pem = bio_text(pub);
  return k;
}

inline const TestKey& rsa2048() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return k;
}
inline const TestKey& rsa2048_other() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return k;
}
inline const TestKey& rsa1024() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  return k;
}
inline const TestKey& p256() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return k;
}
inline const TestKey& p256_other() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return k;
}
inline const TestKey& p384() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  return k;
}
inline const TestKey& ed25519() {
  static const TestKey k = make_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return k;
}

inline std::string jwks(std::initializer_list<std::string> keys) {
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const std::string& k : keys) {
    out += (first ? "" : ",") + k;
    first = false;
  }
  return out + "]}";
}

}  // namespace herald::auth::testing
