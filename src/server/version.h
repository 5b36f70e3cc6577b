#pragma once
// The server's version, as the connect result and the server API's info report it.

#include <string_view>

namespace herald::server {

inline constexpr std::string_view kServerVersion = "0.1.0";

}  // namespace herald::server
