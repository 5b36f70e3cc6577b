#pragma once
// `herald serve` and `herald check-config`.

#include <CLI/CLI.hpp>

namespace herald::app {

void register_serve(CLI::App& app);
void register_check_config(CLI::App& app);
// The exit status chosen by the subcommand that ran.
int exit_code();

}  // namespace herald::app
