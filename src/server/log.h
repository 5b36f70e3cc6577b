#pragma once
// Herald's log: spdlog (Debian's libspdlog-dev, already the project's logger) writing one line per
// record to stderr, in the format the operator chose (`log_format`):
//   text    the spdlog pattern, for a person at a terminal (the default)
//   json    one JSON object per line: {"ts":"2026-11-24T10:00:00.123Z","level":"info",...}
//   logfmt  key=value pairs: ts=2026-11-24T10:00:00.123Z level=info ...
// Ordinary spdlog calls (spdlog::info("...")) become a `msg` field. Structured records
// (LogLine: an `event` and its fields, e.g. a client's connect and disconnect) keep each field as
// its own key, so a log shipper needs no parsing rule.
//
// What never goes in a line: tokens, API keys, secrets, message bodies. LogLine takes fields one
// by one from the server's own code, none of which passes one (tests/integration/test_logs.py
// greps the log of a run that used all of them).
//
// Connect and disconnect lines are rate-limited per loop and per event by LogLimiter, so a
// connection flood cannot fill a disk: past the budget, lines are counted instead of written
// (herald_log_lines_suppressed_total) and the next line written is preceded by a summary
// ("log_suppressed", with how many).
// Thread: install_logging() once at start-up; LogLine from any thread (spdlog's sink has its
// lock); a LogLimiter by its owning loop only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "base/counter.h"
#include "herald/result.h"

namespace herald::server {

enum class LogFormat : uint8_t { kText, kJson, kLogfmt };
Result<LogFormat> parse_log_format(std::string_view name);
// trace, debug, info, warn, error, critical, off (spdlog's names); anything else is an error
// (spdlog itself would read it as "off").
Result<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Sends every spdlog record of the process to stderr in `format`, at `level` and above.
void install_logging(LogFormat format, spdlog::level::level_enum level);
// The format LogLine renders fields in (kText until install_logging). Thread: any.
LogFormat log_format();
// Whether a record at `level` would be written (cheap: one compare). Thread: any.
bool log_enabled(spdlog::level::level_enum level);

// The rate-limited kinds of structured lines.
enum class LogEvent : uint8_t { kConnect, kDisconnect, kLimit };
inline constexpr size_t kLogEvents = 3;
std::string_view to_string(LogEvent event);

// One structured record: fields rendered in the installed format as they are added.
class LogLine {
 public:
  explicit LogLine(std::string_view event);
  LogLine& field(std::string_view key, std::string_view value);
  LogLine& field(std::string_view key, uint64_t value);
  LogLine& number(std::string_view key, double value);
  // Writes the record at `level` (nothing if the logger is above it).
  void write(spdlog::level::level_enum level);

 private:
  std::string fields_;
  LogFormat format_;
};

// Token buckets, one per LogEvent, for one loop. Thread: owning loop only; suppressed() any.
class LogLimiter {
 public:
  // `rate` lines a second per event, bursts of `burst` (0 rate: unlimited).
  LogLimiter(double rate, double burst);
  // True: write the line now. If lines of this event were suppressed since the last written
  // one, a summary line is written first.
  bool admit(LogEvent event, uint64_t now_ms);
  uint64_t suppressed(LogEvent event) const {
    return suppressed_total_[static_cast<size_t>(event)].get();
  }

 private:
  struct Bucket {
    double tokens;
    uint64_t last_ms = 0;
    uint64_t pending = 0;  // suppressed since the last line written
  };
  double rate_;
  double burst_;
  Bucket buckets_[kLogEvents];
  Counter suppressed_total_[kLogEvents];
};

}  // namespace herald::server
