#include "pusher/json_object.h"

#include <cstring>

namespace herald::pusher {
namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

JsonObject::JsonObject() : dom_(1 << 20) {
  if (dom_.allocate(4096, kMaxDepth) != simdjson::SUCCESS) {
    dom_ = simdjson::dom::parser(1 << 20);  // allocated on first parse instead
  }
}

bool JsonObject::parse(std::string_view text) {
  size_ = 0;
  root_ = {};
  if (text.size() > (1u << 30)) {
    return false;
  }
  buffer_.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buffer_.data(), text.data(), text.size());
  std::memset(buffer_.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  size_ = text.size();
  if (dom_.capacity() < text.size()) {
    if (dom_.allocate(text.size(), kMaxDepth) != simdjson::SUCCESS) {
      return false;
    }
  }
  simdjson::dom::element root;
  if (dom_.parse(buffer_.data(), text.size(), false).get(root) != simdjson::SUCCESS) {
    return false;
  }
  return root.get_object().get(root_) == simdjson::SUCCESS;
}

bool JsonObject::has(std::string_view key) const {
  simdjson::dom::element e;
  return root_.at_key(key).get(e) == simdjson::SUCCESS;
}

std::optional<std::string_view> JsonObject::string(std::string_view key) const {
  std::string_view s;
  if (root_.at_key(key).get_string().get(s) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> JsonObject::string_or_integer(std::string_view key) const {
  simdjson::dom::element e;
  if (root_.at_key(key).get(e) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    return std::string(s);
  }
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) {
    return std::to_string(i);
  }
  uint64_t u = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) {
    return std::to_string(u);
  }
  return std::nullopt;
}

bool JsonObject::is_object(std::string_view key) const {
  simdjson::dom::object o;
  return root_.at_key(key).get_object().get(o) == simdjson::SUCCESS;
}

std::optional<std::string_view> JsonObject::raw(std::string_view key) {
  if (size_ == 0 || !has(key)) {
    return std::nullopt;
  }
  // The text was validated whole by the DOM parse: the on-demand walk below only cuts the value
  // out of it.
  simdjson::padded_string_view view(buffer_.data(), size_, buffer_.size());
  simdjson::ondemand::document doc;
  if (ondemand_.iterate(view).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::optional<std::string_view> found;
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    simdjson::ondemand::value v;
    if (field.value().get(v) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    if (k != key) {
      continue;  // the value is skipped by the iteration
    }
    std::string_view text;
    simdjson::ondemand::json_type type;
    if (v.type().get(type) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object o;
      if (v.get_object().get(o) != simdjson::SUCCESS || o.raw_json().get(text) != simdjson::SUCCESS) {
        return std::nullopt;
      }
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array a;
      if (v.get_array().get(a) != simdjson::SUCCESS || a.raw_json().get(text) != simdjson::SUCCESS) {
        return std::nullopt;
      }
    } else {
      text = v.raw_json_token();
    }
    {
      found = trim(text);  // the first one, as the DOM lookup finds
      break;
    }
  }
  return found;
}

}  // namespace herald::pusher
