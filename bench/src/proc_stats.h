#pragma once
// CPU time and resident memory of the server under test (/proc/PID) and of the generator
// itself (getrusage), sampled before and after each measured phase.

#include <sys/types.h>

#include <optional>

namespace herald::bench {

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime
  long rss_kib = 0;        // VmRSS
};

// Reads /proc/PID/stat and /proc/PID/status; nullopt when the process is gone or unreadable.
std::optional<ProcSample> sample_process(pid_t pid);
// This process: user + system CPU of all threads (RUSAGE_SELF) and current VmRSS.
ProcSample sample_self();

// The whole machine (/proc/stat, first line), in seconds of CPU summed over all CPUs: busy is
// user + nice + system + irq + softirq + steal. Busy time that is neither the server's nor the
// generator's is someone else's (builds, other tests): it makes the figures unreliable.
// Softirq time (loopback TCP receive work) is counted here but, with IRQ time accounting, in
// neither process's utime + stime.
struct MachineSample {
  double busy_seconds = 0;
  double total_seconds = 0;
};
std::optional<MachineSample> sample_machine();

// Raises RLIMIT_NOFILE's soft limit to at least want (up to the hard limit); returns the new
// soft limit.
long raise_fd_limit(long want);

}  // namespace herald::bench
