#include "transport/topics.h"

#include <cassert>

#include "ws/deflate.h"
#include "ws/frame.h"

namespace herald::transport {

std::shared_ptr<Publication> Publication::make(std::string_view topic, std::string_view data,
                                               MessageType type, uint64_t exclude_id) {
  auto pub = std::make_shared<Publication>();
  pub->topic = std::string(topic);
  pub->type = type;
  pub->exclude_id = exclude_id;
  std::string frame;
  frame.reserve(data.size() + ws::kMaxHeaderSize);
  ws::append_frame(frame, static_cast<ws::Opcode>(type), data);
  pub->header_size = frame.size() - data.size();
  pub->plain = net::make_shared_buffer(std::move(frame));
  return pub;
}

net::SharedBuffer Publication::deflated(int window_bits, ws::Deflater& deflater) const {
  std::lock_guard<std::mutex> lock(mutex_);
  net::SharedBuffer& slot = deflated_[window_bits & 15];
  if (!slot) {
    std::string compressed;
    deflater.deflate_message(payload(), compressed);
    std::string frame;
    frame.reserve(compressed.size() + ws::kMaxHeaderSize);
    ws::append_frame(frame, static_cast<ws::Opcode>(type), compressed, /*rsv1=*/true);
    slot = net::make_shared_buffer(std::move(frame));
  }
  return slot;
}

net::SharedBuffer Publication::line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!line_) {
    std::string text;
    text.reserve(payload().size() + 1);
    text.append(payload());
    text.push_back('\n');
    line_ = net::make_shared_buffer(std::move(text));
  }
  return line_;
}

net::SharedBuffer Publication::sse() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sse_) {
    std::string text;
    append_sse_data(text, payload());
    sse_ = net::make_shared_buffer(std::move(text));
  }
  return sse_;
}

net::SharedBuffer Publication::sse_with_ids(std::string_view epoch, uint64_t first_offset) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sse_ids_) {
    std::string text;
    std::string_view rest = payload();
    uint64_t offset = first_offset;
    while (true) {
      size_t nl = rest.find('\n');
      text += "id: ";
      text += std::to_string(offset++);
      text += ':';
      text += epoch;
      text += '\n';
      append_sse_data(text, rest.substr(0, nl));
      if (nl == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(nl + 1);
    }
    sse_ids_ = net::make_shared_buffer(std::move(text));
  }
  return sse_ids_;
}

void append_sse_data(std::string& out, std::string_view lines) {
  while (true) {
    size_t nl = lines.find('\n');
    out += "data: ";
    out += lines.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) {
      break;
    }
    lines.remove_prefix(nl + 1);
  }
  out += '\n';
}

void TopicIndex::subscribe(TopicSubscriber* s, std::string_view topic) {
  std::vector<Membership>& memberships = s->memberships();
  for (const Membership& m : memberships) {
    if (m.topic->name == topic) {
      return;
    }
  }
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    auto t = std::make_unique<Topic>();
    t->name = std::string(topic);
    it = topics_.emplace(t->name, std::move(t)).first;
  }
  Topic* t = it->second.get();
  t->subscribers.push_back(Topic::Subscriber{s, static_cast<uint32_t>(memberships.size())});
  memberships.push_back(Membership{t, static_cast<uint32_t>(t->subscribers.size() - 1)});
}

void TopicIndex::unsubscribe(TopicSubscriber* s, std::string_view topic) {
  std::vector<Membership>& memberships = s->memberships();
  for (size_t i = 0; i < memberships.size(); ++i) {
    if (memberships[i].topic->name == topic) {
      remove(s, i);
      return;
    }
  }
}

void TopicIndex::unsubscribe_all(TopicSubscriber* s) {
  while (!s->memberships().empty()) {
    remove(s, s->memberships().size() - 1);
  }
}

size_t TopicIndex::deliver(const Publication& pub) const {
  const Topic* topic = find(pub.topic);
  if (topic == nullptr) {
    return 0;
  }
  for (const Topic::Subscriber& sub : topic->subscribers) {
    sub.subscriber->deliver(pub);
  }
  return topic->subscribers.size();
}

// Swap-with-last removal on both sides keeps every operation O(1); the moved entries' back
// references are patched so they stay exact.
void TopicIndex::remove(TopicSubscriber* s, size_t index) {
  std::vector<Membership>& memberships = s->memberships();
  Membership m = memberships[index];
  Topic* t = m.topic;
  assert(m.slot < t->subscribers.size());
  Topic::Subscriber last = t->subscribers.back();
  t->subscribers[m.slot] = last;
  t->subscribers.pop_back();
  if (m.slot < t->subscribers.size()) {
    last.subscriber->memberships()[last.membership].slot = m.slot;
  }
  Membership moved = memberships.back();
  memberships[index] = moved;
  memberships.pop_back();
  if (index < memberships.size()) {
    moved.topic->subscribers[moved.slot].membership = static_cast<uint32_t>(index);
  }
  if (t->subscribers.empty()) {
    topics_.erase(t->name);
  }
}

}  // namespace herald::transport

namespace herald::transport {

const Topic* TopicIndex::find(std::string_view topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? nullptr : it->second.get();
}

}  // namespace herald::transport
