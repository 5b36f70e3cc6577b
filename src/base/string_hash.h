#pragma once
// StringHash: lets std::unordered_map<std::string, T, StringHash, std::equal_to<>> be searched
// with a std::string_view (or const char*) without building a std::string first, which on the
// per-publication paths was a malloc and free per lookup. Thread: any (stateless).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace herald {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  size_t operator()(const std::string& s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
  size_t operator()(const char* s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace herald
