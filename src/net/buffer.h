#pragma once
// SharedBuffer: an immutable, reference-counted byte buffer. A message framed once for a
// channel is held by every subscriber's output queue through one of these, never copied.
// Thread: any (the bytes never change after creation; the count is atomic).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::net {

using SharedBuffer = std::shared_ptr<const std::string>;

inline SharedBuffer make_shared_buffer(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

inline SharedBuffer make_shared_buffer(std::string_view bytes) {
  return std::make_shared<const std::string>(bytes);
}

// The queued shared buffers of one connection, sent in order from `head`. Lent by the loop's
// pool to a connection only while it has something queued.
struct OutQueue {
  struct Chunk {
    SharedBuffer buffer;
    size_t offset;  // bytes of buffer already sent
  };
  std::vector<Chunk> chunks;
  size_t head = 0;
};

}  // namespace herald::net
