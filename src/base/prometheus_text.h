#pragma once
// PrometheusText: writes the Prometheus text exposition format (version 0.0.4) into one string:
// a family's HELP and TYPE lines once, then its samples, each with its labels. Label values are
// ours (transport names, reasons, loop numbers), never a client's bytes, but they are escaped
// anyway. Histograms are written from a HistogramSnapshot (base/histogram.h) as cumulative
// `_bucket{le=...}` samples, `_sum` in seconds and `_count`. Thread: the caller's (no state
// beyond the string).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "base/histogram.h"

namespace herald {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  explicit PrometheusText(std::string& out) : out_(out) {}

  // HELP and TYPE ("counter", "gauge", "histogram") of the samples that follow.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, uint64_t value) { sample(name, {}, value); }
  // One histogram's samples (after family(name, "histogram", ...)), with the labels given.
  void histogram(std::string_view name, std::initializer_list<Label> labels,
                 const HistogramSnapshot& h);

 private:
  void name_and_labels(std::string_view name, std::string_view suffix,
                       std::initializer_list<Label> labels, std::string_view le = {});
  std::string& out_;
};

}  // namespace herald
