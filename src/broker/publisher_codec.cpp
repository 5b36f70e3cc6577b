#include "broker/publisher_codec.h"

#include <cstdint>

namespace herald::broker {

std::string pack_client(const ClientInfo& who) {
  std::string out;
  for (const std::string* field : {&who.user, &who.client, &who.info}) {
    auto n = static_cast<uint32_t>(field->size());
    for (int shift = 0; shift < 32; shift += 8) {
      out.push_back(static_cast<char>((n >> shift) & 0xff));
    }
    out += *field;
  }
  return out;
}

std::string pack_publisher(const ClientInfo& who) {
  return who.client.empty() ? std::string() : pack_client(who);
}

ClientInfo unpack_publisher(std::string_view bytes) {
  ClientInfo who;
  for (std::string* field : {&who.user, &who.client, &who.info}) {
    if (bytes.size() < 4) {
      return {};
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[static_cast<size_t>(i)]))
           << (8 * i);
    }
    bytes.remove_prefix(4);
    if (bytes.size() < n) {
      return {};
    }
    field->assign(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  return bytes.empty() ? who : ClientInfo{};
}

}  // namespace herald::broker
