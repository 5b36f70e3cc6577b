// Fuzzes the REST request signature check with a query string and body from the input: the
// check never crashes, a request signed by request_signature() over the decoded query passes
// (when its timestamp is fresh and its body_md5 right), and flipping one byte of the signature
// always fails it.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "pusher/signing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald::pusher;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t split = in.find('\n');
  std::string_view query_text = in.substr(0, split);
  std::string_view body = split == std::string_view::npos ? std::string_view{} : in.substr(split + 1);
  SignedRequest req;
  req.method = "POST";
  req.path = "/apps/1/events";
  req.body = body;
  // '&'-separated k=v pairs taken as already decoded.
  size_t pos = 0;
  while (pos < query_text.size() && req.query.size() < 32) {
    size_t amp = query_text.find('&', pos);
    std::string_view item = query_text.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    pos = amp == std::string_view::npos ? query_text.size() : amp + 1;
    size_t eq = item.find('=');
    req.query.emplace_back(std::string(item.substr(0, eq)),
                           eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1)));
  }
  const int64_t now = 1'700'000'000;
  (void)check_request(req, "key", "secret-secret", now);

  // The same request, signed properly.
  SignedRequest good = req;
  std::erase_if(good.query, [](const auto& kv) {
    return kv.first == "auth_key" || kv.first == "auth_timestamp" || kv.first == "auth_version" ||
           kv.first == "auth_signature" || kv.first == "body_md5";
  });
  good.query.emplace_back("auth_key", "key");
  good.query.emplace_back("auth_timestamp", std::to_string(now));
  good.query.emplace_back("auth_version", "1.0");
  if (!body.empty()) {
    good.query.emplace_back("body_md5", md5_hex(body));
  }
  std::string sig = request_signature("secret-secret", good.method, good.path, good.query);
  good.query.emplace_back("auth_signature", sig);
  // Keys differing only in case sign the same: a query with such duplicates is ambiguous, skip.
  bool ok = check_request(good, "key", "secret-secret", now) == RequestAuth::kOk;
  bool plain_keys = true;
  for (const auto& kv : good.query) {
    for (char c : kv.first) {
      plain_keys &= !(c >= 'A' && c <= 'Z');
    }
  }
  if (plain_keys && !ok) {
    std::abort();
  }
  good.query.back().second[0] = sig[0] == 'a' ? 'b' : 'a';
  if (check_request(good, "key", "secret-secret", now) == RequestAuth::kOk) {
    std::abort();
  }
  return 0;
}
