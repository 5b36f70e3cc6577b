#pragma once
// The figures of one bench run, in the order they were added: printed as aligned text for a
// person, or as one flat JSON object (--json) for bench/run.sh and CI.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::bench {

// Built by the main thread after the workers have stopped.
class Report {
 public:
  void add(std::string key, double value, std::string unit = {});
  void add_int(std::string key, int64_t value, std::string unit = {});
  void add_text(std::string key, std::string value);

  std::string to_text() const;
  std::string to_json() const;

 private:
  struct Entry {
    std::string key;
    std::string json;  // the value as JSON
    std::string text;  // the value for people
    std::string unit;
  };
  std::vector<Entry> entries_;
};

std::string json_escape(std::string_view s);

}  // namespace herald::bench
