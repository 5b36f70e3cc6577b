#pragma once
// `herald token`: prints a token the server accepts, made the way a backend would make it, so a
// developer can connect without a backend and scripts and tests can mint tokens. A connection
// token (docs/PROTOCOL.md, connect) by default; a channel token with --channel (and --client to
// bind it to one connection). Signed HS256 with --secret, or RS256/ES256 with --key (a PEM
// private key: its type decides).

#include <CLI/CLI.hpp>

namespace herald::app {

// Adds the subcommand; exit_code is set to 0 or 1 when it runs.
void register_token_command(CLI::App& app, int& exit_code);

}  // namespace herald::app
