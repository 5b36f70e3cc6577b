#include "server/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/prometheus_text.h"

namespace herald::server {
namespace {

// The whole of a small /proc file ("" when it cannot be read).
std::string read_small_file(const char* path) {
  std::string text;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return text;
  }
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

// Boot time (Unix seconds), from the btime line of /proc/stat.
double boot_time_seconds() {
  std::string stat = read_small_file("/proc/stat");
  size_t at = stat.find("\nbtime ");
  return at == std::string::npos ? 0 : std::strtod(stat.c_str() + at + 7, nullptr);
}

uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  uint64_t n = 0;
  while (dirent* e = readdir(dir)) {
    n += e->d_name[0] != '.' ? 1 : 0;
  }
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the descriptor opendir itself holds
}

}  // namespace

ProcessFigures read_process_figures() {
  ProcessFigures p;
  // /proc/self/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'. Field numbers below are proc(5)'s.
  std::string stat = read_small_file("/proc/self/stat");
  size_t close_paren = stat.rfind(')');
  if (close_paren != std::string::npos) {
    const char* s = stat.c_str() + close_paren + 2;  // field 3 (state)
    uint64_t fields[64] = {};
    int field = 3;
    while (*s != '\0' && field < 64) {
      char* end = nullptr;
      fields[field] = std::strtoull(s, &end, 10);
      s = end == s ? s + 1 : end;  // state is a letter: skip it
      while (*s == ' ') {
        ++s;
      }
      ++field;
    }
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (ticks > 0) {
      p.start_time_seconds = boot_time_seconds() + static_cast<double>(fields[22]) / ticks;
    }
    p.threads = fields[20];
    p.virtual_bytes = fields[23];
    p.resident_bytes = fields[24] * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  }
  // CPU from getrusage (microseconds, every thread) rather than /proc's clock ticks (10 ms).
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    p.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  p.open_fds = count_open_fds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    p.max_fds = lim.rlim_cur;
  }
  // mallinfo2() walks the malloc arenas: fine for a scrape every few seconds, and the one
  // number that says what connections really cost.
  struct mallinfo2 heap = mallinfo2();
  p.heap_bytes = heap.uordblks + heap.hblkhd;
  return p;
}

void render_process_figures(std::string& out, const ProcessFigures& p) {
  PrometheusText t(out);
  t.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds");
  t.sample("process_cpu_seconds_total", {}, p.cpu_seconds);
  t.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes");
  t.sample("process_resident_memory_bytes", p.resident_bytes);
  t.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes");
  t.sample("process_virtual_memory_bytes", p.virtual_bytes);
  t.family("process_open_fds", "gauge", "Open file descriptors");
  t.sample("process_open_fds", p.open_fds);
  t.family("process_max_fds", "gauge", "The limit of open file descriptors (soft RLIMIT_NOFILE)");
  t.sample("process_max_fds", p.max_fds);
  t.family("process_start_time_seconds", "gauge", "Start time of the process, Unix seconds");
  t.sample("process_start_time_seconds", {}, p.start_time_seconds);
  t.family("process_threads", "gauge", "Threads of the process");
  t.sample("process_threads", p.threads);
  t.family("herald_heap_bytes", "gauge", "Heap bytes in use (malloc arenas + mmapped blocks)");
  t.sample("herald_heap_bytes", p.heap_bytes);
}

}  // namespace herald::server
