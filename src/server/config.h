#pragma once
// Configuration of `herald serve`: embedded defaults, then a YAML file (--config), then flags.
// YAML because yaml-cpp is packaged in Debian 12 and maintained, and the format is one our users
// already write for their deployments; cpptoml (the other packaged option) is unmaintained.
// Thread: start-up only.

#include <string>

#include "herald/result.h"
#include "herald/server.h"

namespace herald::server {

struct ServeConfig {
  ServeConfig() { server.data_dir = "herald-data"; }  // `herald serve` keeps history durably
  ServerOptions server;
  bool echo = false;              // mount /echo (conformance and benchmarks), off by default
  bool web_pages = true;          // the chat page at /, the dashboard at /dashboard
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  std::string log_format = "text";  // text (a person reads it), json or logfmt (a machine does)
};

// Reads a YAML mapping. Unknown keys and values of the wrong type are errors, so a typo never
// silently leaves a limit at its default. Durations are in seconds (fractions allowed).
Result<Ok> load_config_file(const std::string& path, ServeConfig& config);
// Checks the combined configuration for values that cannot work.
Result<Ok> validate(const ServeConfig& config);
// The effective configuration as YAML that load_config_file reads back to the same options.
// Secrets (api_key, token_hmac_secret) are not printed, only whether they are set.
std::string describe(const ServeConfig& config);

}  // namespace herald::server
