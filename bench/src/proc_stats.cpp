#include "proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace herald::bench {
namespace {

bool read_file(const std::string& path, std::string& out) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) {
    return false;
  }
  char buf[4096];
  out.clear();
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0 && out.size() < (1u << 20)) {
    out.append(buf, n);
  }
  std::fclose(f);
  return true;
}

long rss_from_status(const std::string& status) {
  size_t at = status.find("VmRSS:");
  if (at == std::string::npos) {
    return 0;
  }
  return std::strtol(status.c_str() + at + 6, nullptr, 10);
}

}  // namespace

std::optional<ProcSample> sample_process(pid_t pid) {
  std::string stat;
  std::string status;
  std::string base = "/proc/" + std::to_string(pid);
  if (!read_file(base + "/stat", stat) || !read_file(base + "/status", status)) {
    return std::nullopt;
  }
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  // After ')': field 3 (state) ... field 14 utime, 15 stime.
  const char* p = stat.c_str() + close + 1;
  unsigned long long values[13] = {};
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') {
      ++p;
    }
    if (*p == '\0') {
      return std::nullopt;
    }
    char* end = nullptr;
    values[field - 3] = std::strtoull(p, &end, 10);
    if (field == 3) {
      end = const_cast<char*>(p) + 1;  // the state letter
    }
    p = end;
  }
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ProcSample s;
  s.cpu_seconds = static_cast<double>(values[14 - 3] + values[15 - 3]) / ticks;
  s.rss_kib = rss_from_status(status);
  return s;
}

ProcSample sample_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  ProcSample s;
  s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::string status;
  if (read_file("/proc/self/status", status)) {
    s.rss_kib = rss_from_status(status);
  }
  return s;
}

std::optional<MachineSample> sample_machine() {
  std::string stat;
  if (!read_file("/proc/stat", stat) || stat.compare(0, 4, "cpu ") != 0) {
    return std::nullopt;
  }
  // cpu  user nice system idle iowait irq softirq steal ...
  const char* p = stat.c_str() + 4;
  unsigned long long v[8] = {};
  for (auto& x : v) {
    char* end = nullptr;
    x = std::strtoull(p, &end, 10);
    if (end == p) {
      return std::nullopt;
    }
    p = end;
  }
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  MachineSample m;
  m.busy_seconds = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks;
  m.total_seconds =
      static_cast<double>(v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]) / ticks;
  return m;
}

long raise_fd_limit(long want) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return -1;
  }
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<long>(lim.rlim_cur) < want) {
    rlim_t target = static_cast<rlim_t>(want);
    if (lim.rlim_max != RLIM_INFINITY && target > lim.rlim_max) {
      target = lim.rlim_max;
    }
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? want : static_cast<long>(lim.rlim_cur);
}

}  // namespace herald::bench
