#pragma once
// FreeList<T>: recycles heap objects of one loop (output queues, cork and input buffers) so
// that busy connections allocate nothing in steady state while idle ones hold nothing at all.
// Bounded: past max_pooled objects, or for an object too big to keep, release() deletes.
// Thread: owning loop only.

#include <cstddef>
#include <memory>
#include <vector>

namespace herald::net {

template <typename T>
class FreeList {
 public:
  explicit FreeList(size_t max_pooled) : max_pooled_(max_pooled) {}

  T* acquire() {
    if (free_.empty()) {
      return new T();
    }
    T* t = free_.back().release();
    free_.pop_back();
    return t;
  }

  // keep: false for an object grown too large to be worth pooling. The caller has reset it.
  void release(T* t, bool keep) {
    if (!keep || free_.size() >= max_pooled_) {
      delete t;
      return;
    }
    free_.emplace_back(t);
  }

  size_t pooled() const { return free_.size(); }

 private:
  size_t max_pooled_;
  std::vector<std::unique_ptr<T>> free_;
};

}  // namespace herald::net
