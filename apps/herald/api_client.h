#pragma once
// A minimal blocking HTTP/1.1 client for the CLI's server-API commands (herald pub, history,
// presence): one POST, one response, Content-Length bodies only (what herald sends); over TLS
// for https:// (the C++ client's TLS session, the certificate verified unless told otherwise).
// Thread: the caller's.

#include <string>

#include "herald/client/tls.h"
#include "herald/result.h"

namespace herald::app {

struct ApiResponse {
  int status = 0;
  std::string body;
};

// url: http://HOST:PORT or https://HOST:PORT (the server's base URL). method: e.g. "publish".
// tls: what to trust for https://.
Result<ApiResponse> post_api(const std::string& url, const std::string& method,
                             const std::string& body, const std::string& api_key,
                             const client::TlsOptions& tls = {}, int timeout_ms = 10000);

}  // namespace herald::app
