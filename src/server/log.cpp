#include "server/log.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "base/json_string.h"

namespace herald::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

// Structured records go through a logger of this name (sharing the sink and level of the
// default one): its payload is already a list of fields, not a message to quote.
constexpr std::string_view kEventLogger = "herald.event";
std::shared_ptr<spdlog::logger> g_event_logger;

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '"' || c == '=' || c == '\\' || u >= 0x7f) {
      return true;
    }
  }
  return false;
}

// A logfmt value: bare when it can be, else quoted like a JSON string (escapes, valid UTF-8).
void append_logfmt_value(std::string& out, std::string_view v) {
  if (needs_quotes(v)) {
    append_json_string(out, v);
  } else {
    out += v;
  }
}

void append_timestamp(std::string& out, spdlog::log_clock::time_point t) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  out += buf;
}

std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// The json and logfmt formats. A record from the event logger carries its fields pre-rendered;
// any other record's payload is a message, quoted as `msg`.
class StructuredFormatter final : public spdlog::formatter {
 public:
  explicit StructuredFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    std::string_view payload(msg.payload.data(), msg.payload.size());
    bool is_event = std::string_view(msg.logger_name.data(), msg.logger_name.size()) ==
                    kEventLogger;
    if (format_ == LogFormat::kJson) {
      line += "{\"ts\":\"";
      append_timestamp(line, msg.time);
      line += "\",\"level\":\"";
      line += level_name(msg.level);
      line += "\",";
      if (is_event) {
        line += payload;
      } else {
        line += "\"msg\":";
        append_json_string(line, payload);
      }
      line += "}\n";
    } else {
      line += "ts=";
      append_timestamp(line, msg.time);
      line += " level=";
      line += level_name(msg.level);
      line += ' ';
      if (is_event) {
        line += payload;
      } else {
        line += "msg=";
        append_logfmt_value(line, payload);
      }
      line += '\n';
    }
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<StructuredFormatter>(format_);
  }

 private:
  LogFormat format_;
};

spdlog::logger& event_logger() {
  return g_event_logger ? *g_event_logger : *spdlog::default_logger_raw();
}

}  // namespace

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") {
    return LogFormat::kText;
  }
  if (name == "json") {
    return LogFormat::kJson;
  }
  if (name == "logfmt") {
    return LogFormat::kLogfmt;
  }
  return Error{"log_format must be text, json or logfmt, not \"" + std::string(name) + "\""};
}

Result<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  for (const auto& [n, level] : kLevels) {
    if (n == name) {
      return level;
    }
  }
  return Error{"log_level must be trace, debug, info, warn, error, critical or off, not \"" +
               std::string(name) + "\""};
}

void install_logging(LogFormat format, spdlog::level::level_enum level) {
  g_format.store(format, std::memory_order_relaxed);
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (format == LogFormat::kText) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    // Plain (no colour codes): a machine reads these lines.
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<StructuredFormatter>(format));
  }
  auto main = std::make_shared<spdlog::logger>("herald", sink);
  main->set_level(level);
  spdlog::set_default_logger(main);
  // The event logger shares the sink (one lock, lines never interleave) and the level.
  g_event_logger = std::make_shared<spdlog::logger>(std::string(kEventLogger), sink);
  g_event_logger->set_level(level);
}

LogFormat log_format() { return g_format.load(std::memory_order_relaxed); }

bool log_enabled(spdlog::level::level_enum level) { return event_logger().should_log(level); }

std::string_view to_string(LogEvent event) {
  switch (event) {
    case LogEvent::kConnect:
      return "connect";
    case LogEvent::kDisconnect:
      return "disconnect";
    case LogEvent::kLimit:
      return "limit";
  }
  return "unknown";
}

LogLine::LogLine(std::string_view event) : format_(log_format()) {
  if (format_ == LogFormat::kJson) {
    fields_ += "\"event\":";
    append_json_string(fields_, event);
  } else {
    fields_ += "event=";
    append_logfmt_value(fields_, event);
  }
}

LogLine& LogLine::field(std::string_view key, std::string_view value) {
  if (format_ == LogFormat::kJson) {
    fields_ += ',';
    append_json_string(fields_, key);
    fields_ += ':';
    append_json_string(fields_, value);
  } else {
    fields_ += ' ';
    fields_ += key;
    fields_ += '=';
    append_logfmt_value(fields_, value);
  }
  return *this;
}

LogLine& LogLine::field(std::string_view key, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string_view digits(buf, static_cast<size_t>(end - buf));
  if (format_ == LogFormat::kJson) {
    fields_ += ',';
    append_json_string(fields_, key);
    fields_ += ':';
    fields_ += digits;
  } else {
    fields_ += ' ';
    fields_ += key;
    fields_ += '=';
    fields_ += digits;
  }
  return *this;
}

LogLine& LogLine::number(std::string_view key, double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, 3);
  std::string_view digits(buf, static_cast<size_t>(end - buf));
  if (format_ == LogFormat::kJson) {
    fields_ += ',';
    append_json_string(fields_, key);
    fields_ += ':';
  } else {
    fields_ += ' ';
    fields_ += key;
    fields_ += '=';
  }
  fields_ += digits;
  return *this;
}

void LogLine::write(spdlog::level::level_enum level) {
  spdlog::logger& logger = event_logger();
  if (logger.should_log(level)) {
    logger.log(level, std::string_view(fields_));
  }
}

LogLimiter::LogLimiter(double rate, double burst) : rate_(rate), burst_(std::max(burst, 1.0)) {
  for (Bucket& b : buckets_) {
    b.tokens = burst_;
  }
}

bool LogLimiter::admit(LogEvent event, uint64_t now_ms) {
  if (rate_ <= 0) {
    return true;
  }
  auto i = static_cast<size_t>(event);
  Bucket& b = buckets_[i];
  if (now_ms > b.last_ms) {
    b.tokens = std::min(burst_, b.tokens + static_cast<double>(now_ms - b.last_ms) * rate_ / 1000);
    b.last_ms = now_ms;
  }
  if (b.tokens < 1) {
    ++b.pending;
    suppressed_total_[i].add();
    return false;
  }
  b.tokens -= 1;
  if (b.pending > 0) {
    LogLine("log_suppressed")
        .field("suppressed_event", to_string(event))
        .field("lines", b.pending)
        .write(spdlog::level::warn);
    b.pending = 0;
  }
  return true;
}

}  // namespace herald::server
