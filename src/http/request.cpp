#include "http/request.h"

#include "base/ascii.h"

namespace herald::http {

std::string_view Request::header(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i) {
    if (ascii_iequals(headers[i].name, name)) {
      return headers[i].value;
    }
  }
  return {};
}

bool Request::header_has_token(std::string_view name, std::string_view token) const {
  // A list-valued header may be split over several header lines; look at all of them.
  for (size_t i = 0; i < header_count; ++i) {
    if (!ascii_iequals(headers[i].name, name)) {
      continue;
    }
    std::string_view rest = headers[i].value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = trim_ows(rest.substr(0, comma));
      if (ascii_iequals(item, token)) {
        return true;
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace herald::http
