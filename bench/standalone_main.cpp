// herald_bench_standalone: `herald bench` without the rest of the server binary, so the
// load generator can be built and used while (or without) building herald itself.
#include <CLI/CLI.hpp>

#include "herald/bench/command.h"

int main(int argc, char** argv) {
  CLI::App app{"herald bench, standalone build"};
  app.require_subcommand(1);
  herald::bench::register_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
