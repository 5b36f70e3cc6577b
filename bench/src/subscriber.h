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
#include <map>
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
  // The integrity figures (gaps, duplicates, stray lines and refusals) into a report.
  void report_to(Report& report) const;
};

// herald bench failover: what the reconnecting subscribers share with the main thread. The
// targets are written before the workers start; the rest is atomic.
struct FailoverShared {
  std::vector<LinkTarget> targets;   // --reconnect-url: the surviving nodes
  std::atomic<uint64_t> kill_ns{0};  // when --kill-pid was sent SIGKILL (0: not yet)
  std::atomic<int64_t> away{0};      // subscribers lost and not back yet
  std::atomic<uint64_t> lost{0};     // subscribers whose link dropped during the run
  std::atomic<uint64_t> back{0};     // of them, subscribed again
  std::atomic<uint64_t> last_back_ns{0};
};

// What one worker's reconnecting subscribers did; summed after the threads ended.
struct FailoverFigures {
  uint64_t attempts = 0;                // reconnects started
  uint64_t failed_attempts = 0;         // refused, dropped or subscribe refused before being back
  uint64_t recovered_false = 0;         // back, but the server could not recover (a gap)
  uint64_t recovered_publications = 0;  // delivered in the subscribe replies
  // Subscribers that never saw a gap, a duplicate or recovered: false, by the number of
  // publications they ended with: those at the highest count got every publication once, in
  // order (failover.cpp).
  std::map<uint64_t, uint64_t> clean_by_seq;
  LatencyHistogram back_after_kill;  // kill -> subscribed again, per subscriber

  void add(const FailoverFigures& o);
};

// Thread: its own worker thread.
class SubscriberWorker : public Worker, private LinkHandler {
 public:
  // Subscriber with global number id subscribes to channels[id % channels.size()];
  // subscribers[c] counts the subscribed subscribers of channel c (read by the publisher).
  // failover: null, or the reconnect targets: a subscribed link lost during the run is then
  // replaced by one to a target after a full-jitter delay, subscribing with `since` its last
  // position, and it still counts as a subscriber of its channel while away (the publications
  // it misses come in the subscribe reply).
  SubscriberWorker(Shared& shared, int index, std::vector<uint32_t> ids,
                   const std::vector<std::string>& channels,
                   std::vector<std::atomic<uint32_t>>& subscribers,
                   FailoverShared* failover = nullptr);
  ~SubscriberWorker() override;

  SubscriberFigures figures;
  FailoverFigures failover_figures;  // complete after finish_failover()
  // Once the thread has ended: fills failover_figures.clean_by_seq.
  void finish_failover();
  // What the links counted (requests, poll answers...); call after the thread has ended.
  LinkCounters link_counters() const;

 private:
  // kWaiting: lost, a reconnect is due at retry_at_ns; kResubscribing: its new link is waiting
  // for the subscribe reply.
  enum class SubState : uint8_t { kSubscribing, kSubscribed, kGone, kWaiting, kResubscribing };

  struct Sub {
    uint32_t channel = 0;
    SubState state = SubState::kSubscribing;
    uint64_t next_seq = 0;
    uint64_t last_offset = 0;
    // failover only:
    bool broken = false;  // a gap, duplicate or recovered: false was seen
    uint8_t attempt = 0;  // failed reconnects in a row (the backoff exponent)
    uint32_t target = 0;  // the next reconnect target (index, modulo their count)
    uint64_t retry_at_ns = 0;
    std::string epoch;
  };

  // Worker
  bool start_slot(size_t slot, int* err) override;
  bool slot_active(size_t slot) const override;
  void close_slot(size_t slot) override;
  void abort_slot(size_t slot) override;

  // LinkHandler
  void on_link_text(Link& link, std::string_view lines) override;
  void on_link_close(Link& link, bool clean, std::string_view why) override;

  // Worker: the reconnects that fall due.
  void on_tick(uint64_t now) override;
  void on_drain_tick(uint64_t now) override;
  int timeout_ms(uint64_t now) override;

  // Returns true for a message push.
  bool on_line(Link& link, std::string_view line, uint64_t now);
  void on_publication(Sub& sub, const ServerLine& l, uint64_t now);
  // One publication (pushed, or recovered in a subscribe reply): the order checks; live ones
  // count for the latency.
  void take(Sub& sub, uint64_t offset, std::string_view data_body, uint64_t now, bool live);
  void on_resubscribed(size_t slot, const SubscribeResult& result, uint64_t now);
  // failover: a link of slot ended during the run; true when it was handled here.
  bool failover_close(size_t slot, bool clean);
  void schedule_reconnect(Sub& sub, uint64_t now);
  void reconnect_due(uint64_t now);
  // Ends a link whose subscription failed; the runner counts it as a failed connect.
  void refuse(Link& link, const std::string& why);

  const std::vector<std::string>& channels_;
  std::vector<std::atomic<uint32_t>>& subscribers_;
  FailoverShared* failover_;
  std::vector<std::unique_ptr<Link>> links_;    // by slot (user_data = slot); null while waiting
  std::vector<std::unique_ptr<Link>> retired_;  // closed, destroyed outside the loop's callbacks
  size_t waiting_ = 0;                          // subs in kWaiting
  uint64_t rng_;                                // the jitter (xorshift64)
  std::vector<Sub> subs_;                       // by slot
  std::string opening_;
};

}  // namespace herald::bench
