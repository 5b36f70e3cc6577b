#include "auth/signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace herald::auth {
namespace {

// Per-thread OpenSSL state: an HMAC context that keeps the last secret it was keyed with (so
// a steady stream of HS256 connects re-derives no key) and a digest context for RS256/ES256.
// Thread: its own thread only.
struct SignatureScratch {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* mac_ctx = nullptr;
  uint64_t mac_key_id = 0;  // 0: mac_ctx holds no key
  EVP_MD_CTX* md_ctx = nullptr;

  SignatureScratch() = default;
  ~SignatureScratch() {
    EVP_MD_CTX_free(md_ctx);
    EVP_MAC_CTX_free(mac_ctx);
    EVP_MAC_free(mac);
  }
  SignatureScratch(const SignatureScratch&) = delete;
  SignatureScratch& operator=(const SignatureScratch&) = delete;

  // HMAC-SHA256(secret, data) into out. False only if OpenSSL fails (out of memory).
  bool hmac(const VerificationKey& key, std::string_view data,
            unsigned char (&out)[kHs256SignatureSize]) {
    if (mac_ctx == nullptr) {
      mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      mac_ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
      if (mac_ctx == nullptr) {
        return false;
      }
    }
    int ok = 0;
    if (mac_key_id == key.id()) {
      ok = EVP_MAC_init(mac_ctx, nullptr, 0, nullptr);  // same key: only reset the state
    } else {
      char digest[] = "SHA256";
      OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end(),
      };
      mac_key_id = 0;
      ok = EVP_MAC_init(mac_ctx, reinterpret_cast<const unsigned char*>(key.secret().data()),
                        key.secret().size(), params);
      if (ok == 1) {
        mac_key_id = key.id();
      }
    }
    size_t size = 0;
    return ok == 1 &&
           EVP_MAC_update(mac_ctx, reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1 &&
           EVP_MAC_final(mac_ctx, out, &size, kHs256SignatureSize) == 1 &&
           size == kHs256SignatureSize;
  }

  // SHA-256 then the key's own public-key check (PKCS#1 v1.5 for RSA, ECDSA for EC).
  bool digest_verify(EVP_PKEY* pkey, std::string_view data, std::string_view sig) {
    if (md_ctx == nullptr) {
      md_ctx = EVP_MD_CTX_new();
      if (md_ctx == nullptr) {
        return false;
      }
    } else {
      EVP_MD_CTX_reset(md_ctx);
    }
    bool ok =
        EVP_DigestVerifyInit_ex(md_ctx, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) == 1 &&
        EVP_DigestVerify(md_ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    if (!ok) {
      ERR_clear_error();  // a bad signature is an answer, not an error of this thread
    }
    return ok;
  }
};

SignatureScratch& scratch() {
  thread_local SignatureScratch s;
  return s;
}

}  // namespace

bool verify_signature(const VerificationKey& key, std::string_view signing_input,
                      std::string_view signature) {
  switch (key.algorithm()) {
    case Algorithm::kHs256: {
      unsigned char mac[kHs256SignatureSize];
      return !key.secret().empty() && signature.size() == kHs256SignatureSize &&
             scratch().hmac(key, signing_input, mac) &&
             CRYPTO_memcmp(mac, signature.data(), kHs256SignatureSize) == 0;
    }
    case Algorithm::kRs256:
      return key.pkey() != nullptr &&
             signature.size() == static_cast<size_t>(EVP_PKEY_get_size(key.pkey())) &&
             scratch().digest_verify(key.pkey(), signing_input, signature);
    case Algorithm::kEs256: {
      thread_local std::string der;
      return key.pkey() != nullptr && es256_raw_to_der(signature, der) &&
             scratch().digest_verify(key.pkey(), signing_input, der);
    }
  }
  return false;
}

bool es256_raw_to_der(std::string_view raw, std::string& der) {
  if (raw.size() != kEs256SignatureSize) {
    return false;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  bool ok = false;
  if (sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    int size = i2d_ECDSA_SIG(sig, nullptr);
    if (size > 0) {
      der.resize(static_cast<size_t>(size));
      auto* p = reinterpret_cast<unsigned char*>(der.data());
      ok = i2d_ECDSA_SIG(sig, &p) == size;
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return ok;
}

bool es256_der_to_raw(std::string_view der, std::string& raw) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  bool ok = false;
  if (sig != nullptr && p == reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    raw.resize(kEs256SignatureSize);
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
  }
  ECDSA_SIG_free(sig);
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

}  // namespace herald::auth
