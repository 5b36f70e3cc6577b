#include "http/url.h"

#include "http/chars.h"

namespace herald::http {

bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
  size_t i = 0;
  while (i < in.size()) {
    // Copy the run up to the next byte that needs work in one append.
    size_t run = i;
    while (run < in.size() && in[run] != '%' && !(plus_as_space && in[run] == '+')) {
      ++run;
    }
    out.append(in.data() + i, run - i);
    i = run;
    if (i == in.size()) {
      break;
    }
    if (in[i] == '+') {
      out.push_back(' ');
      ++i;
      continue;
    }
    if (in.size() - i < 3) {
      return false;
    }
    int hi = chars::hex_value(in[i + 1]);
    int lo = chars::hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 3;
  }
  return true;
}

std::optional<std::string_view> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> query_param_decoded(std::string_view query, std::string_view name) {
  std::optional<std::string_view> raw = query_param(query, name);
  if (!raw) {
    return std::nullopt;
  }
  std::string out;
  if (!percent_decode(*raw, out, true)) {
    return std::nullopt;
  }
  return out;
}

std::vector<std::string> query_values_decoded(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) {
      continue;
    }
    std::string out;
    if (percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                       out, true)) {
      values.push_back(std::move(out));
    }
  }
  return values;
}

}  // namespace herald::http
