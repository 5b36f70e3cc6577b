#pragma once
// The publisher of a publication (and a presence member) as bytes: user, client and info, each
// as a 4-byte little-endian length and its bytes. The SQLite store keeps publishers in this form
// and the Redis broker keeps presence members and publishers in it. Thread: any (functions).

#include <string>
#include <string_view>

#include "broker/broker.h"

namespace herald::broker {

// "" for a backend publish (no client); otherwise the three fields.
std::string pack_publisher(const ClientInfo& who);
// The three fields whatever the client is (presence members always have one).
std::string pack_client(const ClientInfo& who);
// The inverse; anything malformed (a damaged row, bytes another program wrote) reads as "no
// publisher": these bytes are never trusted to be well formed.
ClientInfo unpack_publisher(std::string_view bytes);

}  // namespace herald::broker
