#include "auth/signer.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "auth/base64url.h"
#include "auth/signature.h"
#include "base/json_string.h"

namespace herald::auth {
namespace {

// OpenSSL asks this for a passphrase: there is none, so an encrypted key fails to load.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return 0;
}

}  // namespace

std::string make_hs256_token(std::string_view secret, std::string_view claims_json,
                             std::string_view header_json) {
  std::string token;
  token.reserve((header_json.size() + claims_json.size() + 32) * 4 / 3 + 8);
  append_base64url(token, header_json);
  token += '.';
  append_base64url(token, claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac,
           &mac_size) == nullptr) {
    return {};
  }
  token += '.';
  append_base64url(token, std::string_view(reinterpret_cast<const char*>(mac), mac_size));
  return token;
}

TokenSigner TokenSigner::hs256(std::string secret) {
  TokenSigner s;
  s.alg_ = Algorithm::kHs256;
  s.secret_ = std::move(secret);
  return s;
}

Result<TokenSigner> TokenSigner::from_private_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  if (key == nullptr) {
    return Error{"no unencrypted PEM private key (an encrypted one needs `openssl pkey` first)"};
  }
  TokenSigner s;
  s.pkey_ = std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
  int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Error{"an RSA key of " + std::to_string(bits) + " bits (2048-8192 sign RS256)"};
    }
    s.alg_ = Algorithm::kRs256;
    return s;
  }
  if (type == EVP_PKEY_EC) {
    char group[64] = {};
    size_t size = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &size) == 1 &&
        OBJ_txt2nid(group) == NID_X9_62_prime256v1) {
      s.alg_ = Algorithm::kEs256;
      return s;
    }
    ERR_clear_error();
    return Error{std::string("an EC key on ") + group + "; ES256 needs P-256 (prime256v1)"};
  }
  return Error{"only RSA (RS256) and EC P-256 (ES256) private keys sign tokens"};
}

Result<TokenSigner> TokenSigner::load_private_pem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path + ": cannot open"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto signer = from_private_pem(text.str());
  if (!signer) {
    return Error{path + ": " + signer.error()};
  }
  return signer;
}

std::string TokenSigner::sign(std::string_view claims_json, std::string_view kid) const {
  std::string header = "{\"alg\":\"" + std::string(algorithm_name(alg_)) + "\",\"typ\":\"JWT\"";
  if (!kid.empty()) {
    header += ",\"kid\":";
    append_json_string(header, kid);
  }
  header += '}';
  return sign_with_header(header, claims_json);
}

std::string TokenSigner::sign_with_header(std::string_view header_json,
                                          std::string_view claims_json) const {
  if (alg_ == Algorithm::kHs256) {
    return make_hs256_token(secret_, claims_json, header_json);
  }
  std::string token;
  append_base64url(token, header_json);
  token += '.';
  append_base64url(token, claims_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  size_t size = 0;
  bool ok =
      ctx != nullptr &&
      EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, pkey_.get(), nullptr) == 1 &&
      EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size()) == 1;
  if (ok) {
    sig.resize(size);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &size,
                        reinterpret_cast<const unsigned char*>(token.data()), token.size()) == 1;
    sig.resize(size);
  }
  EVP_MD_CTX_free(ctx);
  if (ok && alg_ == Algorithm::kEs256) {
    std::string raw;
    ok = es256_der_to_raw(sig, raw);  // OpenSSL signs DER; JOSE carries r||s
    sig = std::move(raw);
  }
  if (!ok) {
    ERR_clear_error();
    return {};
  }
  token += '.';
  append_base64url(token, sig);
  return token;
}

VerificationKey TokenSigner::verification_key(std::string kid) const {
  if (alg_ == Algorithm::kHs256) {
    return VerificationKey::hmac(secret_, std::move(kid));
  }
  return VerificationKey::public_key(alg_, pkey_.get(), std::move(kid));
}

std::string TokenSigner::public_pem() const {
  if (alg_ == Algorithm::kHs256) {
    return {};
  }
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio != nullptr && PEM_write_bio_PUBKEY(bio, pkey_.get()) == 1) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(size));
  }
  BIO_free(bio);
  return out;
}

}  // namespace herald::auth
