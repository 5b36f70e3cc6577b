// Fuzzes the Sec-WebSocket-Extensions negotiation parser. When an offer is accepted, the
// response we write must itself parse as an offer that yields the same parameters.
//
// Input: [config byte][header value...]

#include <cstdint>
#include <cstdlib>
#include <string>

#include "ws/deflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  herald::ws::DeflateConfig config;
  config.server_max_window_bits = static_cast<uint8_t>(8 + (data[0] & 7));
  config.client_max_window_bits = static_cast<uint8_t>(8 + ((data[0] >> 3) & 7));
  std::string_view offers(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string response;
  auto params = herald::ws::negotiate_permessage_deflate(offers, config, response);
  if (!params) {
    return 0;
  }
  if (params->server_max_window_bits < 8 || params->server_max_window_bits > 15 ||
      params->client_max_window_bits < 8 || params->client_max_window_bits > 15) {
    std::abort();
  }
  std::string again;
  auto reparsed = herald::ws::negotiate_permessage_deflate(response, config, again);
  if (!reparsed || reparsed->client_no_context_takeover != params->client_no_context_takeover ||
      reparsed->server_max_window_bits != params->server_max_window_bits ||
      reparsed->client_max_window_bits != params->client_max_window_bits || again != response) {
    std::abort();
  }
  return 0;
}
