#include "base/prometheus_text.h"

#include <charconv>

namespace herald {
namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

// Shortest text that reads back as the same double (Prometheus parses Go floats).
void append_double(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;  // ours: no backslash or newline to escape
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::name_and_labels(std::string_view name, std::string_view suffix,
                                     std::initializer_list<Label> labels, std::string_view le) {
  out_ += name;
  out_ += suffix;
  if (labels.size() == 0 && le.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  for (const Label& l : labels) {
    if (!first) {
      out_ += ',';
    }
    first = false;
    out_ += l.first;
    out_ += "=\"";
    append_label_value(out_, l.second);
    out_ += '"';
  }
  if (!le.empty()) {
    if (!first) {
      out_ += ',';
    }
    out_ += "le=\"";
    out_ += le;
    out_ += '"';
  }
  out_ += "} ";
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels,
                            uint64_t value) {
  name_and_labels(name, {}, labels);
  append_uint(out_, value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels,
                            double value) {
  name_and_labels(name, {}, labels);
  append_double(out_, value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::initializer_list<Label> labels,
                               const HistogramSnapshot& h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kHistogramBuckets; ++i) {
    cumulative += h.buckets[i];
    std::string le;
    if (i < kHistogramBoundsNs.size()) {
      append_double(le, static_cast<double>(kHistogramBoundsNs[i]) / 1e9);
    } else {
      le = "+Inf";
    }
    name_and_labels(name, "_bucket", labels, le);
    append_uint(out_, cumulative);
    out_ += '\n';
  }
  name_and_labels(name, "_sum", labels);
  append_double(out_, static_cast<double>(h.sum_ns) / 1e9);
  out_ += '\n';
  name_and_labels(name, "_count", labels);
  append_uint(out_, cumulative);
  out_ += '\n';
}

}  // namespace herald
