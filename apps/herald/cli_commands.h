#pragma once
// `herald pub`, `herald history`, `herald presence`: the server API from the shell. Output is one
// JSON object per line so that scripts and other tools can read it.

#include <CLI/CLI.hpp>

namespace herald::app {

void register_api_commands(CLI::App& app, int& exit_code);

}  // namespace herald::app
