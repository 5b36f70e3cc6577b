#include "http/router.h"

#include <algorithm>

namespace herald::http {
namespace {

std::string allow_value(MethodMask methods) {
  static constexpr std::pair<Method, std::string_view> kNames[] = {
      {Method::kGet, "GET"},    {Method::kHead, "HEAD"},     {Method::kPost, "POST"},
      {Method::kPut, "PUT"},    {Method::kDelete, "DELETE"}, {Method::kOptions, "OPTIONS"},
      {Method::kPatch, "PATCH"}};
  std::string out;
  for (const auto& [method, name] : kNames) {
    if ((methods & method_bit(method)) != 0) {
      if (!out.empty()) {
        out.append(", ");
      }
      out.append(name);
    }
  }
  return out;
}

}  // namespace

bool Router::add(std::vector<Route>& routes, std::string_view path, MethodMask methods,
                 uint32_t id) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  for (const Route& r : routes) {
    if (r.path == path) {
      return false;
    }
  }
  if ((methods & method_bit(Method::kGet)) != 0) {
    methods |= method_bit(Method::kHead);
  }
  routes.push_back(Route{std::string(path), methods, id, allow_value(methods)});
  return true;
}

bool Router::add_exact(std::string_view path, MethodMask methods, uint32_t route_id) {
  if (!add(exact_, path, methods, route_id)) {
    return false;
  }
  std::sort(exact_.begin(), exact_.end(),
            [](const Route& a, const Route& b) { return a.path < b.path; });
  return true;
}

bool Router::add_prefix(std::string_view prefix, MethodMask methods, uint32_t route_id) {
  if (!add(prefixes_, prefix, methods, route_id)) {
    return false;
  }
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const Route& a, const Route& b) { return a.path.size() > b.path.size(); });
  return true;
}

Router::Match Router::decide(const Route& route, Method method) {
  if ((route.methods & method_bit(method)) != 0) {
    return {Result::kFound, route.id, {}};
  }
  return {Result::kMethodNotAllowed, route.id, route.allow};
}

Router::Match Router::match(Method method, std::string_view path) const {
  auto it = std::lower_bound(exact_.begin(), exact_.end(), path,
                             [](const Route& r, std::string_view p) { return r.path < p; });
  if (it != exact_.end() && it->path == path) {
    return decide(*it, method);
  }
  for (const Route& r : prefixes_) {
    if (path.size() >= r.path.size() && path.compare(0, r.path.size(), r.path) == 0) {
      return decide(r, method);
    }
  }
  return {};
}

}  // namespace herald::http
