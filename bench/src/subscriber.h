#pragma once
// The subscribers of `herald bench fanout | channels | idle`: Herald protocol clients over the
// transport of --transport (link.h), each subscribed to one channel. A subscriber sends connect
// and subscribe as its opening commands and counts as connected only once the subscribe reply is
// in. It then checks every message push: the stamp's per-channel sequence number must be the
// next one (a jump is a loss inside the stream, a step back a duplicate or reordering), the
// offset must be the previous one + 1, and the latency is receive time minus the stamp's send
// time.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "herald_wire.h"
#include "link.h"
#include "runner.h"

namespace herald::bench {

// Integrity figures of the subscribers, summed over workers after they stop.
struct SubscriberFigures {
  uint64_t seq_gaps = 0;       // messages skipped inside a subscriber's stream
  uint64_t duplicates = 0;     // a sequence number at or below one already seen
  uint64_t offset_gaps = 0;    // offsets not exactly previous + 1
  uint64_t wrong_channel = 0;  // a push for a channel the connection is not subscribed to
  uint64_t other_pushes = 0;   // join, leave, unsubscribe, disconnect...
  uint64_t malformed = 0;      // lines that are not valid JSON or miss the stamp
  uint64_t unexpected_replies = 0;
  uint64_t subscribe_refused = 0;
  // How the transport grouped the message pushes: units (a WebSocket message, an SSE event, a
  // poll answer, a TCP line) that held at least one, and the pushes they held.
  uint64_t push_units = 0;
  uint64_t pushes_in_units = 0;

  void add(const SubscriberFigures& o);
};

// Thread: its own worker thread.
class SubscriberWorker : public Worker, private LinkHandler {
 public:
  // Subscriber with global number id subscribes to channels[id % channels.size()];
  // subscribers[c] counts the subscribed subscribers of channel c (read by the publisher).
  SubscriberWorker(Shared& shared, int index, std::vector<uint32_t> ids,
                   const std::vector<std::string>& channels,
                   std::vector<std::atomic<uint32_t>>& subscribers);
  ~SubscriberWorker() override;

  SubscriberFigures figures;
  // What the links counted (requests, poll answers...); call after the thread has ended.
  LinkCounters link_counters() const;

 private:
  enum class SubState : uint8_t { kSubscribing, kSubscribed, kGone };

  struct Sub {
    uint32_t channel = 0;
    SubState state = SubState::kSubscribing;
    uint64_t next_seq = 0;
    uint64_t last_offset = 0;
  };

  // Worker
  bool start_slot(size_t slot, int* err) override;
  bool slot_active(size_t slot) const override;
  void close_slot(size_t slot) override;
  void abort_slot(size_t slot) override;

  // LinkHandler
  void on_link_text(Link& link, std::string_view lines) override;
  void on_link_close(Link& link, bool clean, std::string_view why) override;

  // Returns true for a message push.
  bool on_line(Link& link, std::string_view line, uint64_t now);
  void on_publication(Sub& sub, const ServerLine& l, uint64_t now);
  // Ends a link whose subscription failed; the runner counts it as a failed connect.
  void refuse(Link& link, const std::string& why);

  const std::vector<std::string>& channels_;
  std::vector<std::atomic<uint32_t>>& subscribers_;
  std::vector<std::unique_ptr<Link>> links_;  // by slot (user_data = slot)
  std::vector<Sub> subs_;                     // by slot
  std::string opening_;
};

}  // namespace herald::bench
