#pragma once
// The three bench modes. Each runs to completion, prints its report and returns the process
// exit code (0 ok, 1 nothing could be measured, 2 bad options).

#include "options.h"

namespace herald::bench {

int run_echo(const BenchOptions& options);
int run_broadcast(const BenchOptions& options);
int run_connect(const BenchOptions& options);

}  // namespace herald::bench
