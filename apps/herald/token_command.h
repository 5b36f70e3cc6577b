#pragma once
// `herald token`: prints an HS256 connection token (docs/PROTOCOL.md, connect) for a user, so
// a developer can connect without a backend, and scripts can mint tokens the way a backend
// would.

#include <CLI/CLI.hpp>

namespace herald::app {

// Adds the subcommand; exit_code is set to 0 or 1 when it runs.
void register_token_command(CLI::App& app, int& exit_code);

}  // namespace herald::app
