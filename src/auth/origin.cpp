#include "auth/origin.h"

#include "base/ascii.h"

namespace herald::auth {
namespace {

// Origin = scheme "://" host [":" port] (RFC 6454); split at "://" and the last ':' after it.
struct Parts {
  std::string_view scheme;
  std::string_view host;
  std::string_view port;  // "" when absent
};

bool split(std::string_view origin, Parts& out) {
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return false;
  }
  out.scheme = origin.substr(0, sep);
  std::string_view rest = origin.substr(sep + 3);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return false;
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    out.host = rest.substr(0, colon);
    out.port = rest.substr(colon + 1);
  } else {
    out.host = rest;
    out.port = {};
  }
  return !out.host.empty();
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ascii_iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool matches(std::string_view pattern, std::string_view origin) {
  if (ascii_iequals(pattern, origin)) {
    return true;
  }
  Parts p;
  Parts o;
  if (!split(pattern, p) || !split(origin, o) || !ascii_iequals(p.scheme, o.scheme)) {
    return false;
  }
  if (p.port == "*") {
    // any port, the host as written (or wildcarded below)
  } else if (!ascii_iequals(p.port, o.port)) {
    return false;
  }
  if (p.host.starts_with("*.")) {
    std::string_view suffix = p.host.substr(1);  // ".example.com"
    return o.host.size() > suffix.size() && ends_with_ci(o.host, suffix);
  }
  return ascii_iequals(p.host, o.host);
}

}  // namespace

OriginPolicy::OriginPolicy(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  for (const std::string& p : patterns_) {
    any_ = any_ || p == "*";
  }
}

bool OriginPolicy::valid_pattern(std::string_view pattern, std::string* why) {
  if (pattern == "*" || ascii_iequals(pattern, "null")) {
    return true;
  }
  Parts p;
  if (!split(pattern, p)) {
    if (why != nullptr) {
      *why = "origin pattern '" + std::string(pattern) + "' is not scheme://host[:port]";
    }
    return false;
  }
  std::string_view host = p.host.starts_with("*.") ? p.host.substr(2) : p.host;
  if (host.empty() || host.find('*') != std::string_view::npos ||
      p.scheme.find('*') != std::string_view::npos) {
    if (why != nullptr) {
      *why = "origin pattern '" + std::string(pattern) +
             "': '*' may stand only for the whole origin, a leading '*.' of the host, or the port";
    }
    return false;
  }
  return true;
}

bool OriginPolicy::allows(std::string_view origin, std::string_view host) const {
  if (!checks() || origin.empty()) {
    return true;
  }
  Parts o;
  if (split(origin, o) && !host.empty()) {
    // The server's own pages: the Origin names the host the request was sent to.
    std::string_view authority = origin.substr(o.scheme.size() + 3);
    if (ascii_iequals(authority, host)) {
      return true;
    }
  }
  for (const std::string& p : patterns_) {
    if (matches(p, origin)) {
      return true;
    }
  }
  return false;
}

}  // namespace herald::auth
