#pragma once
// `herald bench`: the load generator. apps/herald/main.cpp calls register_command(app).

namespace CLI {
class App;
}  // namespace CLI

namespace herald::bench {

// Adds the subcommand `bench` with the modes `echo`, `broadcast` and `connect`. The chosen
// mode runs from its CLI11 callback during app.parse(); a failed run throws
// CLI::RuntimeError(exit_code), which CLI11_PARSE / app.exit() turn into the exit status.
void register_command(CLI::App& app);

}  // namespace herald::bench
