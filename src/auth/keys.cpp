#include "auth/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <simdjson.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "auth/base64url.h"

namespace herald::auth {
namespace {

std::atomic<uint64_t> g_next_key_id{1};

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

KeyFailure fail(KeyError error, std::string detail) {
  ERR_clear_error();  // what OpenSSL queued on this thread is said by `detail`
  return KeyFailure{error, std::move(detail)};
}

// The algorithm a public key serves, or why it serves none. `where` names it in the detail.
std::variant<Algorithm, KeyFailure> check_public_key(EVP_PKEY* key, const std::string& where) {
  int type = EVP_PKEY_get_base_id(key);
  Algorithm alg = Algorithm::kRs256;
  if (type == EVP_PKEY_RSA) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
      return fail(KeyError::kWeakKey, where + ": RSA key of " + std::to_string(bits) +
                                          " bits (at least 2048, RFC 7518 section 3.3)");
    }
    if (bits > kMaxRsaBits) {
      return fail(KeyError::kUnsupportedKey,
                  where + ": RSA key of " + std::to_string(bits) + " bits (at most 8192)");
    }
  } else if (type == EVP_PKEY_EC) {
    char group[64] = {};
    size_t size = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &size) != 1 ||
        OBJ_txt2nid(group) != NID_X9_62_prime256v1) {
      return fail(KeyError::kUnsupportedKey,
                  where + ": EC key on " + (group[0] != '\0' ? group : "explicit parameters") +
                      "; ES256 needs P-256 (prime256v1)");
    }
    alg = Algorithm::kEs256;
  } else {
    const char* name = OBJ_nid2sn(type);
    return fail(KeyError::kUnsupportedKey,
                where + ": a " + (name != nullptr ? name : "unknown") +
                    " key; only RSA (RS256) and EC P-256 (ES256) keys verify tokens");
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  bool valid = ctx != nullptr && EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!valid) {
    return fail(KeyError::kBadKey, where + ": OpenSSL refuses the key material");
  }
  return alg;
}

// The public key of one PEM block, or nullptr with `failure` set (kNoKey: a block to skip).
PkeyPtr pem_block_key(const std::string& label, const unsigned char* der, long size,
                      const std::string& where, KeyFailure& failure) {
  const unsigned char* p = der;
  PkeyPtr key;
  if (label == "PUBLIC KEY") {
    key.reset(d2i_PUBKEY(nullptr, &p, size));
  } else if (label == "RSA PUBLIC KEY") {
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, size));
  } else if (label == "CERTIFICATE") {
    X509* cert = d2i_X509(nullptr, &p, size);
    if (cert != nullptr) {
      key.reset(X509_get_pubkey(cert));
      X509_free(cert);
    }
  } else if (label == "EC PARAMETERS") {
    failure = KeyFailure{KeyError::kNoKey, {}};
    return nullptr;
  } else if (label.find("PRIVATE KEY") != std::string::npos) {
    failure =
        fail(KeyError::kPrivateKey, where + ": a private key (" + label +
                                        "); give the public key: openssl pkey -in KEY -pubout");
    return nullptr;
  } else {
    failure =
        fail(KeyError::kUnsupportedKey, where + ": a '" + label + "' block holds no public key");
    return nullptr;
  }
  if (key == nullptr || p != der + size) {
    failure = fail(KeyError::kBadPem, where + ": unreadable " + label);
    return nullptr;
  }
  return key;
}

// Members of one JSON object that a parser reads, each at most once.
template <size_t N>
struct Members {
  const std::string_view (&names)[N];
  simdjson::dom::element value[N];
  bool present[N] = {};

  explicit Members(const std::string_view (&n)[N]) : names(n) {}

  // False (with the repeated name) if a member appears twice.
  bool collect(simdjson::dom::object object, std::string& repeated) {
    for (auto field : object) {
      for (size_t i = 0; i < N; ++i) {
        if (field.key == names[i]) {
          if (present[i]) {
            repeated = std::string(names[i]);
            return false;
          }
          present[i] = true;
          value[i] = field.value;
        }
      }
    }
    return true;
  }
};

constexpr std::string_view kJwkMembers[] = {"kty", "use", "alg", "kid", "n",
                                            "e",   "crv", "x",   "y",   "d"};
enum : size_t { kKty, kUse, kAlg, kKid, kN, kE, kCrv, kX, kY, kD };

// base64url member `m` of a JWK into bytes; false if absent, not a string or not base64url.
bool jwk_bytes(const Members<std::size(kJwkMembers)>& jwk, size_t m, std::string& out) {
  std::string_view text;
  if (!jwk.present[m] || jwk.value[m].get(text) != simdjson::SUCCESS) {
    return false;
  }
  out.resize(base64url_decoded_max(text.size()));
  size_t size = 0;
  if (!base64url_decode(text, out.data(), size)) {
    return false;
  }
  out.resize(size);
  return true;
}

PkeyPtr rsa_from_jwk(const std::string& n, const std::string& e) {
  PkeyPtr key;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    params = OSSL_PARAM_BLD_to_param(bld);
  }
  EVP_PKEY_CTX* ctx =
      params != nullptr ? EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr) : nullptr;
  EVP_PKEY* raw = nullptr;
  if (ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_PUBLIC_KEY, params) == 1) {
    key.reset(raw);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

PkeyPtr p256_from_jwk(const std::string& x, const std::string& y) {
  unsigned char point[65];
  point[0] = 0x04;  // uncompressed: 04 || x || y (SEC 1 section 2.3.3)
  std::memcpy(point + 1, x.data(), 32);
  std::memcpy(point + 33, y.data(), 32);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
      OSSL_PARAM_construct_end(),
  };
  PkeyPtr key;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* raw = nullptr;
  if (ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &raw, EVP_PKEY_PUBLIC_KEY, params) == 1) {
    key.reset(raw);
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// One JWK: a key (added to out), a skip (counted), or a failure.
std::optional<KeyFailure> add_jwk(simdjson::dom::element element, size_t index, ParsedKeys& out) {
  std::string where = "keys[" + std::to_string(index) + "]";
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) {
    return fail(KeyError::kBadJwks, where + " is not an object");
  }
  Members<std::size(kJwkMembers)> jwk(kJwkMembers);
  std::string repeated;
  if (!jwk.collect(object, repeated)) {
    return fail(KeyError::kBadJwks, where + ": \"" + repeated + "\" appears twice");
  }
  std::string_view kty, use, alg_name, kid, crv;
  for (auto [m, text] : {std::pair{kKty, &kty}, std::pair{kUse, &use}, std::pair{kAlg, &alg_name},
                         std::pair{kKid, &kid}, std::pair{kCrv, &crv}}) {
    if (jwk.present[m] && jwk.value[m].get(*text) != simdjson::SUCCESS) {
      return fail(KeyError::kBadJwks,
                  where + ": \"" + std::string(kJwkMembers[m]) + "\" is not a string");
    }
  }
  if (!jwk.present[kKty]) {
    return fail(KeyError::kBadJwks, where + ": no \"kty\"");
  }
  if (kid.size() > 255) {
    return fail(KeyError::kBadJwks, where + ": \"kid\" over 255 bytes");
  }
  if (!kid.empty()) {
    where += " (kid " + std::string(kid) + ")";
  }
  if (jwk.present[kD]) {
    return fail(KeyError::kPrivateKey,
                where + ": a private key (\"d\"); publish only the public members");
  }
  if (jwk.present[kUse] && use != "sig") {
    ++out.skipped;  // an encryption key
    return std::nullopt;
  }
  Algorithm alg;
  if (kty == "RSA") {
    alg = Algorithm::kRs256;
  } else if (kty == "EC") {
    if (!jwk.present[kCrv]) {
      return fail(KeyError::kBadJwks, where + ": an EC key without \"crv\"");
    }
    if (crv != "P-256") {
      ++out.skipped;
      return std::nullopt;
    }
    alg = Algorithm::kEs256;
  } else {
    ++out.skipped;  // "oct" (a secret has no place in a key set we read), "OKP"...
    return std::nullopt;
  }
  if (jwk.present[kAlg]) {
    std::optional<Algorithm> named = algorithm_from_name(alg_name);
    if (!named || *named == Algorithm::kHs256) {
      ++out.skipped;  // RS384, PS256, ES384...: not ours
      return std::nullopt;
    }
    if (*named != alg) {
      return fail(KeyError::kBadJwks, where + ": \"alg\" " + std::string(alg_name) +
                                          " does not fit \"kty\" " + std::string(kty));
    }
  }
  PkeyPtr key;
  std::string a, b;
  if (alg == Algorithm::kRs256) {
    if (!jwk.present[kN] || !jwk.present[kE]) {
      return fail(KeyError::kBadJwks, where + ": an RSA key needs \"n\" and \"e\"");
    }
    if (!jwk_bytes(jwk, kN, a) || !jwk_bytes(jwk, kE, b) || a.empty() || b.empty()) {
      return fail(KeyError::kBadKey, where + ": \"n\" and \"e\" must be base64url integers");
    }
    key = rsa_from_jwk(a, b);
  } else {
    if (!jwk.present[kX] || !jwk.present[kY]) {
      return fail(KeyError::kBadJwks, where + ": an EC key needs \"x\" and \"y\"");
    }
    if (!jwk_bytes(jwk, kX, a) || !jwk_bytes(jwk, kY, b) || a.size() != 32 || b.size() != 32) {
      return fail(KeyError::kBadKey,
                  where + ": \"x\" and \"y\" must be 32 bytes each in base64url (RFC 7518 6.2.1)");
    }
    key = p256_from_jwk(a, b);
  }
  if (key == nullptr) {
    return fail(KeyError::kBadKey, where + ": OpenSSL refuses the key material");
  }
  auto checked = check_public_key(key.get(), where);
  if (auto* failure = std::get_if<KeyFailure>(&checked)) {
    return *failure;
  }
  out.keys.push_back(VerificationKey::public_key(alg, key.get(), std::string(kid)));
  return std::nullopt;
}

Result<std::string> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Error{path + ": cannot open: " + std::strerror(errno)};
  }
  std::string text(kMaxKeyFileSize + 1, '\0');
  size_t size = std::fread(text.data(), 1, text.size(), f);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return Error{path + ": cannot read"};
  }
  if (size > kMaxKeyFileSize) {
    return Error{path + ": " + std::string(to_string(KeyError::kTooLarge)) + ": over " +
                 std::to_string(kMaxKeyFileSize) + " bytes"};
  }
  text.resize(size);
  return text;
}

Result<ParsedKeys> load(const std::string& path, KeyParseResult (*parse)(std::string_view)) {
  auto text = read_file(path);
  if (!text) {
    return Error{text.error()};
  }
  KeyParseResult parsed = parse(*text);
  if (auto* failure = std::get_if<KeyFailure>(&parsed)) {
    return Error{path + ": " + std::string(to_string(failure->error)) + ": " + failure->detail};
  }
  return std::get<ParsedKeys>(std::move(parsed));
}

}  // namespace

std::string_view algorithm_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHs256:
      return "HS256";
    case Algorithm::kRs256:
      return "RS256";
    case Algorithm::kEs256:
      return "ES256";
  }
  return "?";
}

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (Algorithm alg : {Algorithm::kHs256, Algorithm::kRs256, Algorithm::kEs256}) {
    if (name == algorithm_name(alg)) {
      return alg;
    }
  }
  return std::nullopt;
}

VerificationKey VerificationKey::hmac(std::string secret, std::string kid) {
  VerificationKey k;
  k.alg_ = Algorithm::kHs256;
  k.secret_ = std::move(secret);
  k.kid_ = std::move(kid);
  k.id_ = g_next_key_id.fetch_add(1, std::memory_order_relaxed);
  return k;
}

VerificationKey VerificationKey::public_key(Algorithm alg, EVP_PKEY* pkey, std::string kid) {
  VerificationKey k;
  k.alg_ = alg;
  EVP_PKEY_up_ref(pkey);
  k.pkey_ = std::shared_ptr<EVP_PKEY>(pkey, PkeyFree{});
  k.kid_ = std::move(kid);
  k.id_ = g_next_key_id.fetch_add(1, std::memory_order_relaxed);
  return k;
}

std::string VerificationKey::describe() const {
  std::string out(algorithm_name(alg_));
  switch (alg_) {
    case Algorithm::kHs256:
      out += " secret";
      break;
    case Algorithm::kRs256:
      out += " (" + std::to_string(EVP_PKEY_get_bits(pkey_.get())) + "-bit RSA)";
      break;
    case Algorithm::kEs256:
      out += " (P-256)";
      break;
  }
  if (!kid_.empty()) {
    out += " kid=" + kid_;
  }
  return out;
}

std::string_view to_string(KeyError error) {
  switch (error) {
    case KeyError::kTooLarge:
      return "too_large";
    case KeyError::kNoKey:
      return "no_key";
    case KeyError::kBadPem:
      return "bad_pem";
    case KeyError::kPrivateKey:
      return "private_key";
    case KeyError::kUnsupportedKey:
      return "unsupported_key";
    case KeyError::kWeakKey:
      return "weak_key";
    case KeyError::kBadKey:
      return "bad_key";
    case KeyError::kBadJwks:
      return "bad_jwks";
    case KeyError::kDuplicateKid:
      return "duplicate_kid";
  }
  return "unknown";
}

KeyParseResult parse_pem_public_keys(std::string_view pem) {
  if (pem.size() > kMaxKeyFileSize) {
    return fail(KeyError::kTooLarge, "over " + std::to_string(kMaxKeyFileSize) + " bytes");
  }
  ParsedKeys out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    return fail(KeyError::kBadPem, "out of memory");
  }
  std::optional<KeyFailure> failure;
  for (size_t block = 1;; ++block) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* der = nullptr;
    long size = 0;
    ERR_clear_error();
    if (PEM_read_bio(bio, &name, &header, &der, &size) != 1) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) != ERR_LIB_PEM || ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
        failure = fail(KeyError::kBadPem, "PEM block " + std::to_string(block) + " is broken");
      }
      break;  // no further BEGIN line: the end
    }
    std::string label = name;
    std::string where = "PEM block " + std::to_string(block) + " (" + label + ")";
    KeyFailure block_failure{KeyError::kNoKey, {}};
    PkeyPtr key = pem_block_key(label, der, size, where, block_failure);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    if (key == nullptr) {
      if (block_failure.error == KeyError::kNoKey) {
        continue;  // EC PARAMETERS
      }
      failure = std::move(block_failure);
      break;
    }
    auto checked = check_public_key(key.get(), where);
    if (auto* f = std::get_if<KeyFailure>(&checked)) {
      failure = std::move(*f);
      break;
    }
    if (out.keys.size() == kMaxKeys) {
      failure = fail(KeyError::kTooLarge, "more than " + std::to_string(kMaxKeys) + " keys");
      break;
    }
    out.keys.push_back(VerificationKey::public_key(std::get<Algorithm>(checked), key.get()));
  }
  BIO_free(bio);
  ERR_clear_error();
  if (failure) {
    return *failure;
  }
  if (out.keys.empty()) {
    return fail(KeyError::kNoKey, "no PEM public key (-----BEGIN PUBLIC KEY-----) in the text");
  }
  return out;
}

KeyParseResult parse_jwks(std::string_view json) {
  if (json.size() > kMaxKeyFileSize) {
    return fail(KeyError::kTooLarge, "over " + std::to_string(kMaxKeyFileSize) + " bytes");
  }
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  // A key set nests four levels ({"keys":[{"x5c":["..."]}]}); anything deeper is not one.
  if (parser.allocate(padded.size(), 16) != simdjson::SUCCESS ||
      parser.parse(padded).get(root) != simdjson::SUCCESS) {
    return fail(KeyError::kBadJwks, "not JSON (or nested deeper than 16 levels)");
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return fail(KeyError::kBadJwks, "a JWKS is a JSON object {\"keys\":[...]}");
  }
  static constexpr std::string_view kRoot[] = {"keys"};
  Members<1> members(kRoot);
  std::string repeated;
  simdjson::dom::array keys;
  if (!members.collect(object, repeated)) {
    return fail(KeyError::kBadJwks, "\"keys\" appears twice");
  }
  if (!members.present[0] || members.value[0].get(keys) != simdjson::SUCCESS) {
    return fail(KeyError::kBadJwks, "no \"keys\" array");
  }
  ParsedKeys out;
  size_t index = 0;
  for (simdjson::dom::element element : keys) {
    if (auto failure = add_jwk(element, index++, out)) {
      return *failure;
    }
    if (out.keys.size() > kMaxKeys) {
      return fail(KeyError::kTooLarge, "more than " + std::to_string(kMaxKeys) + " usable keys");
    }
  }
  std::set<std::string_view> kids;
  for (const VerificationKey& key : out.keys) {
    if (!key.kid().empty() && !kids.insert(key.kid()).second) {
      return fail(KeyError::kDuplicateKid, "two keys with kid " + key.kid());
    }
  }
  if (out.keys.empty()) {
    return fail(KeyError::kNoKey, "no usable signature key (RSA, or EC P-256) among " +
                                      std::to_string(index) + " (" + std::to_string(out.skipped) +
                                      " skipped)");
  }
  return out;
}

Result<ParsedKeys> load_pem_public_keys(const std::string& path) {
  return load(path, parse_pem_public_keys);
}

Result<ParsedKeys> load_jwks(const std::string& path) {
  return load(path, parse_jwks);
}

}  // namespace herald::auth
