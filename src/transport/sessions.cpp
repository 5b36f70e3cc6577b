#include "transport/sessions.h"

#include <sys/random.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

namespace herald::transport {

std::string new_session_id(std::string_view node, int loop_index) {
  uint8_t random[16];
  size_t got = 0;
  while (got < sizeof(random)) {
    ssize_t n = getrandom(random + got, sizeof(random) - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::abort();  // the kernel's random source never fails once booted; ids must be secret
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  if (!node.empty()) {
    id += node;
    id += '.';
  }
  id += std::to_string(loop_index) + "-";
  for (uint8_t b : random) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

std::string_view session_node(std::string_view id) {
  size_t dot = id.find('.');
  return dot == std::string_view::npos ? std::string_view{} : id.substr(0, dot);
}

int session_loop(std::string_view id, int loop_count) {
  if (size_t dot = id.find('.'); dot != std::string_view::npos) {
    id.remove_prefix(dot + 1);
  }
  size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || id.size() - dash - 1 != 32) {
    return -1;
  }
  int loop = -1;
  auto [end, ec] = std::from_chars(id.data(), id.data() + dash, loop);
  if (ec != std::errc() || end != id.data() + dash || loop < 0 || loop >= loop_count) {
    return -1;
  }
  return loop;
}

}  // namespace herald::transport
