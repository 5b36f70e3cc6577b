#pragma once
// ProcessFigures: the process's own CPU time, memory and file descriptors, read from /proc/self
// at scrape time, exposed under the names every Prometheus client library uses
// (process_cpu_seconds_total, process_resident_memory_bytes...), so the dashboards and alerts
// operators already have for other services work unchanged. Linux only, like the event loop.
// Thread: any (reads files; no state).

#include <cstdint>
#include <string>

namespace herald::server {

struct ProcessFigures {
  double cpu_seconds = 0;          // user + system
  uint64_t resident_bytes = 0;     // RSS
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;            // the soft RLIMIT_NOFILE
  double start_time_seconds = 0;   // Unix time the process started
  uint64_t threads = 0;
  uint64_t heap_bytes = 0;         // malloc'd and in use (mallinfo2)
};

// Reads /proc/self/stat, /proc/self/fd and getrlimit. A figure that cannot be read stays 0.
ProcessFigures read_process_figures();

// Appends the process_* families and herald_heap_bytes.
void render_process_figures(std::string& out, const ProcessFigures& p);

}  // namespace herald::server
