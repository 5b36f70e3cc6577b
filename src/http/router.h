#pragma once
// Router: maps (method, path) to a route id. Exact paths beat prefixes; the longest prefix wins.
// Built once at start-up, then read-only: match() is const, allocation-free and safe to call
// from every loop at once. Thread: add_*() before the loops start; match() from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace herald::http {

using MethodMask = uint16_t;

constexpr MethodMask method_bit(Method m) {
  return static_cast<MethodMask>(1u << static_cast<unsigned>(m));
}
// Every method including kOther (unknown extension methods).
inline constexpr MethodMask kAnyMethod = 0xff;

class Router {
 public:
  enum class Result : uint8_t { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Result result = Result::kNotFound;
    uint32_t route_id = 0;   // valid when kFound
    std::string_view allow;  // Allow header value when kMethodNotAllowed, e.g. "GET, HEAD"
  };

  // Registers a path served only when equal to the request path. A GET route also answers
  // HEAD (RFC 9110 9.3.2). Returns false if the path is already registered or not '/'-rooted.
  bool add_exact(std::string_view path, MethodMask methods, uint32_t route_id);
  // Registers a prefix such as "/api/": any path starting with it. Same rules as add_exact().
  bool add_prefix(std::string_view prefix, MethodMask methods, uint32_t route_id);

  // The raw (undecoded) path is matched; views in the result live as long as the Router.
  Match match(Method method, std::string_view path) const;

 private:
  struct Route {
    std::string path;
    MethodMask methods;
    uint32_t id;
    std::string allow;
  };

  bool add(std::vector<Route>& routes, std::string_view path, MethodMask methods, uint32_t id);
  static Match decide(const Route& route, Method method);

  std::vector<Route> exact_;     // sorted by path for binary search
  std::vector<Route> prefixes_;  // longest first, so the first hit is the best
};

}  // namespace herald::http
