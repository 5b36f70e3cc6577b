#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herald::bench {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

void Report::add(std::string key, double value, std::string unit) {
  char json[64];
  char text[64];
  if (!std::isfinite(value)) {
    std::snprintf(json, sizeof(json), "null");
    std::snprintf(text, sizeof(text), "n/a");
  } else {
    std::snprintf(json, sizeof(json), "%.6g", value);
    double mag = std::fabs(value);
    std::snprintf(text, sizeof(text),
                  mag >= 1000 || value == std::floor(value) ? "%.0f"
                  : mag >= 10                               ? "%.1f"
                                                            : "%.3f",
                  value);
  }
  entries_.push_back({std::move(key), json, text, std::move(unit)});
}

void Report::add_int(std::string key, int64_t value, std::string unit) {
  std::string v = std::to_string(value);
  entries_.push_back({std::move(key), v, v, std::move(unit)});
}

void Report::add_text(std::string key, std::string value) {
  std::string json = json_escape(value);
  entries_.push_back({std::move(key), std::move(json), std::move(value), {}});
}

std::string Report::to_text() const {
  size_t width = 0;
  for (const auto& e : entries_) {
    width = std::max(width, e.key.size());
  }
  std::string out;
  for (const auto& e : entries_) {
    out += e.key;
    out.append(width + 2 - e.key.size(), ' ');
    out += e.text;
    if (!e.unit.empty()) {
      out += " " + e.unit;
    }
    out += "\n";
  }
  return out;
}

std::string Report::to_json() const {
  std::string out = "{";
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += json_escape(entries_[i].key) + ": " + entries_[i].json;
  }
  out += "}";
  return out;
}

}  // namespace herald::bench
