#include "herald/client/line_splitter.h"

namespace herald::client {
namespace {
// A burst's long line should not stay pinned on each of thousands of idle connections.
constexpr size_t kKeepCapacity = 64 * 1024;
}  // namespace

bool LineSplitter::keep(std::string_view piece) {
  if (partial_.size() + piece.size() > max_) {
    failed_ = true;
    return false;
  }
  partial_.append(piece);
  return true;
}

void LineSplitter::release() {
  if (partial_.empty()) {
    return;
  }
  partial_.clear();
  if (partial_.capacity() > kKeepCapacity) {
    partial_.shrink_to_fit();
  }
}

}  // namespace herald::client
