#pragma once
// The bench modes. Each runs to completion, prints its report and returns the process
// exit code (0 ok, 1 nothing could be measured, 2 bad options).

#include "options.h"

namespace herald::bench {

int run_echo(const BenchOptions& options);
int run_broadcast(const BenchOptions& options);
int run_connect(const BenchOptions& options);
// The Herald protocol (/connection/websocket and POST /api/publish):
int run_fanout(const BenchOptions& options);  // fanout and channels
int run_idle(const BenchOptions& options);    // idle protocol clients over --transport
int run_history(const BenchOptions& options);
int run_recovery(const BenchOptions& options);
int run_failover(const BenchOptions& options);  // a node killed, its clients move (failover.cpp)

}  // namespace herald::bench
