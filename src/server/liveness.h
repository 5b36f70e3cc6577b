#pragma once
// Liveness: whether every event loop still turns, and telling systemd so.
//
// Heartbeat: a timer on one loop that stamps the time every second. A loop stuck anywhere (a
// handler that never returns, a blocking call, a thread stopped by a debugger) stops stamping,
// whatever it was doing, so the age of its stamp is how long it has been unresponsive. Read by
// /health (503 "stalled" once a loop's stamp is older than stall_timeout), /metrics
// (herald_loop_heartbeat_age_seconds) and the systemd watchdog.
//
// SystemdNotifier: the sd_notify protocol without libsystemd (one datagram to $NOTIFY_SOCKET):
// READY=1 once the server listens (Type=notify units start their dependants only then),
// STOPPING=1 when the drain begins, and WATCHDOG=1 every half WatchdogSec while no loop is
// stalled, so systemd restarts a server whose loop is stuck. Without $NOTIFY_SOCKET it does
// nothing. Thread: Heartbeat: started and stamped on its loop, read from any thread;
// SystemdNotifier: any (the socket is set up at construction).

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/event_loop.h"
#include "net/timer_wheel.h"

namespace herald::server {

class Heartbeat final : private net::Timer {
 public:
  static constexpr uint64_t kIntervalMs = 1'000;

  explicit Heartbeat(net::EventLoop& loop) : loop_(loop) {}
  // Stamps now and every kIntervalMs after. Thread: the loop's own.
  void start();
  // Milliseconds since the last stamp (0 before start). Thread: any.
  uint64_t age_ms() const;

 private:
  void on_timer() override;
  net::EventLoop& loop_;
  std::atomic<uint64_t> stamped_ms_{0};  // steady clock
};

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (honoured only when WATCHDOG_PID is unset or ours).
  SystemdNotifier();
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // How often WATCHDOG=1 must be sent (half of WatchdogSec), 0 without a watchdog.
  uint64_t watchdog_interval_ms() const { return watchdog_interval_ms_; }
  // Sends one state ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."); false if it failed.
  bool notify(std::string_view state) const;

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un path bytes (a leading '\0' for an abstract socket)
  uint64_t watchdog_interval_ms_ = 0;
};

}  // namespace herald::server
