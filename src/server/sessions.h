#pragma once
// ProtocolSessions: what the server API may ask of the Herald-protocol connections of one loop
// (disconnect a user, count clients). Implemented by the protocol handler, which registers itself
// in its LoopContext. Thread: the loop's own.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

namespace herald::server {

class ProtocolSessions {
 public:
  virtual ~ProtocolSessions() = default;
  // Sends every connection of `user` a disconnect push with `code`, then closes it with that
  // code. Returns how many connections that was.
  virtual size_t disconnect_user(std::string_view user, uint16_t code,
                                 std::string_view reason) = 0;
  // Connected clients of this loop; adds their non-empty user ids to `users`.
  virtual size_t count_clients(std::unordered_set<std::string>& users) const = 0;
};

}  // namespace herald::server
