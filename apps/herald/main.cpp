// herald: one binary, subcommands (serve, bench, check-config). This file only parses flags and
// hands over to the libraries.

#include <CLI/CLI.hpp>

#include "cli_commands.h"
#include "serve_command.h"
#include "sub_command.h"
#include "token_command.h"

#ifdef HERALD_HAVE_BENCH
#include "herald/bench/command.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{"herald: a real-time messaging server"};
  app.require_subcommand(1);
  herald::app::register_serve(app);
  herald::app::register_check_config(app);
  int api_exit = -1;
  herald::app::register_api_commands(app, api_exit);
  herald::app::register_token_command(app, api_exit);
  herald::app::register_sub_command(app, api_exit);
#ifdef HERALD_HAVE_BENCH
  herald::bench::register_command(app);
#endif
  CLI11_PARSE(app, argc, argv);
  return api_exit >= 0 ? api_exit : herald::app::exit_code();
}
