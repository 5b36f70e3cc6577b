// The history extension of the Pusher endpoint (docs/PUSHER.md, "History for reconnecting
// clients"), for apps with `history` > 0. A client opts in per subscription with "herald_since"
// in pusher:subscribe's data: {} to start tracking, or {"offset":N,"epoch":E} (the last position
// it saw) to be replayed what it missed. That subscription's subscription_succeeded then carries
// "herald_position" (and "herald_recovered" when it gave a position), the missed events follow
// before any live one, and every event it gets carries its "herald_position". A stock client
// never sends herald_since and never sees any of it: its frames are the same bytes as before.

#include <algorithm>
#include <charconv>

#include "pusher/endpoint.h"

namespace herald::pusher {
namespace {

// Live publications held for a presence subscription that waits for its roster (at least this
// many, or the app's history).
constexpr size_t kMinHeld = 1000;

}  // namespace

bool Endpoint::read_since(Session& s, const ClientFrame& f, std::string_view pusher_name,
                          Session::Subscription& sub, std::optional<hub::Position>& since) {
  auto refuse = [&] {
    subscription_failed(s, pusher_name, "InvalidHistoryPosition",
                        R"(herald_since must be {} or {"offset":N,"epoch":"E"})", 400);
    return false;
  };
  if (!since_.parse(f.herald_since)) {
    return refuse();
  }
  sub.positions = true;
  std::optional<std::string> offset = since_.string_or_integer("offset");
  std::optional<std::string_view> epoch = since_.string("epoch");
  if (!offset && !epoch) {
    return true;  // {}: positions from now on
  }
  uint64_t n = 0;
  if (!offset || !epoch || offset->empty() || epoch->size() > 64) {
    return refuse();
  }
  auto [end, ec] = std::from_chars(offset->data(), offset->data() + offset->size(), n);
  if (ec != std::errc{} || end != offset->data() + offset->size()) {
    return refuse();
  }
  since = hub::Position{n, std::string(*epoch)};
  sub.asked_offset = true;
  return true;
}

void Endpoint::keep_reply(Session::Subscription& sub, hub::SubscribeReply& reply) {
  sub.replied = true;
  sub.top = reply.top;
  sub.recovered = reply.recovered;
  sub.held_epoch = reply.top.epoch;
  sub.held.reserve(reply.publications.size());
  for (broker::PublicationRecord& rec : reply.publications) {
    sub.held.push_back(std::make_shared<const broker::PublicationRecord>(std::move(rec)));
  }
}

void Endpoint::hold(Session& s, Session::Subscription& sub, const std::string& epoch,
                    FrameCache::Records records) {
  size_t bound = std::max<size_t>(kMinHeld, s.app.options.history);
  for (const auto& rec : records) {
    if (sub.held.size() >= bound) {
      // Too much to hold: the client must reload; it goes on from the newest position.
      sub.held.clear();
      sub.overflowed = true;
      sub.recovered = false;
    }
    if (sub.overflowed) {
      sub.top.offset = rec->offset;
      sub.top.epoch = epoch;
      continue;
    }
    sub.held_epoch = epoch;
    sub.held.push_back(rec);
  }
}

void Endpoint::send_positioned(Session& s, std::string_view pusher_name,
                               std::string_view succeeded_data, Session::Subscription& sub) {
  std::string out;
  append_event_string_data(out, "pusher_internal:subscription_succeeded", pusher_name,
                           succeeded_data);
  out.pop_back();
  append_position(out, sub.top.offset, sub.top.epoch);
  if (sub.asked_offset) {
    out += sub.recovered ? R"(,"herald_recovered":true)" : R"(,"herald_recovered":false)";
  }
  out += '}';
  s.send(out);
  // herald_position above is where the client stands once these are in: the missed ones (when
  // recovered) end at it, the live ones held meanwhile come after it.
  for (const auto& rec : sub.held) {
    s.send(frames_.frame_one(pusher_name, *rec, &sub.held_epoch));
  }
  sub.held.clear();
  sub.held.shrink_to_fit();
}

}  // namespace herald::pusher
