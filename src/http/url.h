#pragma once
// URL helpers for request targets: percent-decoding (RFC 3986 2.1) and query parameters in the
// application/x-www-form-urlencoded shape ("a=1&b=2"). Pure functions; any thread. Invalid
// input returns an error value, never crashes.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::http {

// Appends the percent-decoding of `in` to `out`. With plus_as_space (query strings), '+' is a
// space. Returns false on a '%' not followed by two hex digits; `out` then holds a partial
// result the caller should discard.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space = false);

// The raw (still encoded) value of the first parameter whose raw name equals `name`; a
// parameter without '=' has an empty value. nullopt when absent. Views point into `query`.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);

// query_param() then percent_decode() with '+' as space; nullopt when absent or badly encoded.
std::optional<std::string> query_param_decoded(std::string_view query, std::string_view name);

// Every value of the parameters whose raw name equals `name`, in order, decoded as above; a
// value that is badly encoded is left out. ("channel=a&channel=b" gives a, b.)
std::vector<std::string> query_values_decoded(std::string_view query, std::string_view name);

}  // namespace herald::http
