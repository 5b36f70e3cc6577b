#pragma once
// PollSession: the protocol over HTTP long-polling (docs/PROTOCOL.md, "Long-polling"). What the
// server sends the client waits in a bounded per-session buffer of numbered entries; a poll
// (GET with a cursor, the number of the last entry the client has) takes everything after the
// cursor, now or as soon as there is something, or an empty answer after poll_timeout. A lost
// answer loses nothing: the next poll names the same cursor and gets the same entries again;
// only a cursor acknowledges. Commands come in POSTs, and their replies go into the buffer.
// A session that nobody polls for session_timeout is collected (its presence goes with it); one
// whose buffer passes max_output_bytes is dropped (the client polls too slowly). Owned by its
// loop's LoopServices::polls; not tied to any connection. Thread: owning loop only.

#include <cstdint>
#include <functional>
#include <vector>
#include <string>
#include <string_view>

#include "net/buffer.h"
#include "net/timer_wheel.h"
#include "transport/sessions.h"
#include "transport/end_reason.h"

namespace herald::transport {

class LoopServices;

class PollSession final : public EmulatedSession, private net::Timer {
 public:
  // How a poll is answered: once, on this loop, with an HTTP status and body.
  using Answer = std::function<void(int status, std::string body)>;

  PollSession(LoopServices& services, std::string session_id, uint64_t client_id);
  ~PollSession() override;

  // Registers the session and runs its first commands (the connect).
  void open(std::string_view commands);
  // Everything buffered, as a poll answer, acknowledging nothing: the creating POST's answer.
  std::string answer_now() const;
  // A poll: see the class comment. A second poll while one is held answers the first (empty).
  void poll(uint64_t cursor, Answer answer);
  // Commands from a POST naming this session. False once the session has ended.
  bool commands(std::string_view lines);
  // True once the session ended and its last entries were taken: the owner may delete it.
  bool finished() const { return finished_; }

  // Transport
  Kind kind() const override { return Kind::kPoll; }
  uint64_t id() const override { return client_id_; }
  void send_text(std::string_view lines) override;
  void send_shared(const Publication& pushes, const PushPositions& at) override;
  void close(uint16_t code, std::string_view reason) override;

  // The server is stopping: the client is told (disconnect 1001), a held poll is answered.
  void drain();
  // The client said it leaves (DELETE): the session ends and is collected now.
  void leave();

 private:
  struct Entry {
    uint64_t seq;
    net::SharedBuffer lines;  // one or more protocol lines, without a trailing '\n'
  };

  void append(net::SharedBuffer lines);
  std::string render(uint64_t cursor) const;  // the answer for everything after cursor
  void answer_waiter();
  void end();        // the protocol is told the client is gone; entries stay for a last poll
  void collect();    // the owner deletes this session after the current callback
  void on_timer() override;

  LoopServices& services_;
  uint64_t client_id_;
  // seq > acked_, consecutive. A vector: an idle session holds none, and a deque's first block
  // alone is 512 bytes; the few entries a poll acknowledges are erased from the front at once.
  std::vector<Entry> entries_;
  size_t bytes_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t acked_ = 0;
  Answer waiter_;
  bool ended_ = false;       // no more commands; the protocol side is gone
  bool overflowed_ = false;  // ended because the buffer passed its cap
  bool finished_ = false;
  EndNote end_;              // why it ended (a session has no socket to tell)
  uint16_t close_code_ = 0;  // the protocol's disconnect code, when it ended the session
  uint64_t opened_ms_ = 0;   // the loop's now_ms() at open()
};

}  // namespace herald::transport
