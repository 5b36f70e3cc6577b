#pragma once
// pusher-js's HTTP fallbacks, the session side (docs/PUSHER.md, "HTTP fallbacks"). When its
// WebSocket fails, pusher-js speaks the same protocol through a SockJS-like session at
//   /pusher/app/{key}/{server}/{session}/xhr_streaming   a POST whose answer streams frames
//   /pusher/app/{key}/{server}/{session}/xhr             a POST answered with the next frames
//   /pusher/app/{key}/{server}/{session}/xhr_send        a POST of ["<event json>", ...]
// where {server}/{session} is chosen by the client. Each answer is lines of frames: "o" (open,
// once), "a[...]" (an array of events, each the JSON text of one Pusher message as a JSON
// string), "h" (heartbeat), "c[code,reason]" (close; pusher-js acts on the code as on a
// WebSocket close).
//
// The session lives on one loop, chosen by hashing its path (a client-chosen id cannot name a
// loop), whichever connections its requests come in on. An XhrSession is the Pusher Session's
// link there: what the Session sends waits in a bounded queue of events until a receiving
// request takes it. A receive is answered at once when something waits, otherwise held until
// something does (events of one loop turn go out together) or for ping_interval, then "h".
// Taking acknowledges: an answer lost on the way loses its events, as with pusher-js's own
// servers. Nobody receiving for session_timeout ends the session; a queue over
// max_output_bytes ends it with 4100 (pusher-js reconnects after a backoff).
// Thread: the owning loop only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "net/buffer.h"
#include "net/timer_wheel.h"
#include "pusher/xhr_frames.h"

namespace herald::pusher {

class Endpoint;
class XhrSessions;
class XhrStream;
struct App;
struct PusherFrame;

// How a receiving request is answered, once, on the session's loop: the frames ("o\n", "a[...]\n",
// "h\n", "c[...]\n"), and whether this requester is done (the session closed, or another
// receiving request took its place).
using XhrAnswer = std::function<void(std::string frames, bool last)>;

// One client's session. Owned by its loop's XhrSessions.
class XhrSession final : private net::Timer {
 public:
  XhrSession(XhrSessions& owner, std::string path, uint64_t id);
  ~XhrSession() override;

  // What the Pusher Session sends: one event for this client, a frame shared by the loop's
  // subscribers (quoted once per loop), the close.
  void send(std::string_view event);
  void deliver(const PusherFrame& frame);
  void close(uint16_t code, std::string_view reason);

  // A receiving request (requester: the id of the connection that carries it).
  void receive(uint64_t requester, XhrAnswer answer);
  // The connection `requester` went away: its held receive is dropped, and the session ends
  // after a short grace unless another receive comes.
  void detach(uint64_t requester);
  // Input is accepted until the session ended.
  bool ended() const { return ended_; }
  uint64_t id() const { return id_; }
  const std::string& path() const { return path_; }

 private:
  void append(net::SharedBuffer quoted);
  bool has_output() const { return !opened_ || !events_.empty() || ended_; }
  std::string take();  // the frames owed now; acknowledges them
  void flush();        // answers a held receive with what was queued this turn
  void end();          // the protocol side is told (next turn); a last receive gets the close
  void collect();      // the owner deletes this session after the current callback
  void on_timer() override;

  XhrSessions& owner_;
  std::string path_;
  uint64_t id_;
  std::vector<net::SharedBuffer> events_;  // quoted JSON strings, not yet taken
  size_t bytes_ = 0;
  XhrAnswer waiter_;
  uint64_t waiter_id_ = 0;
  bool opened_ = false;          // "o" was handed out
  bool flush_scheduled_ = false;
  bool ended_ = false;
  bool finished_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
};

// One loop's part of the HTTP fallbacks: the sessions it holds, by path
// ("<key>/<server>/<session>"), and the streaming connections it serves (whose session may be on
// another loop), by connection id. Owned by the loop's Endpoint. Thread: that loop only.
class XhrSessions {
 public:
  explicit XhrSessions(Endpoint& endpoint);
  ~XhrSessions();

  // A receiving request for `path` of `app`; a path not held yet is a new session (its first
  // answer is "o" and connection_established), unless this loop holds its share of
  // max_connections in sessions already (then o, pusher:error and close 4100).
  void receive(const App& app, std::string_view path, uint64_t requester, XhrAnswer answer);
  // An xhr_send's body for `path`: 204 when its events ran, 404 for no such session (or one that
  // ended), 400 for a body that is not a JSON array of strings.
  int send(std::string_view path, std::string_view body);
  void detach(std::string_view path, uint64_t requester);

  // Connection `conn_id` of this loop carries a poll of `path`, whose session is on loop
  // `target`: when the connection closes while the poll is held, the session is detached from
  // it (a poller that left is noticed as soon as a stream's end is).
  void poll_carried(uint64_t conn_id, std::string path, int target);
  // The server is stopping: every session closes with 4200 (pusher-js reconnects at once,
  // elsewhere), which answers their held receives.
  void drain();
  // Connection `conn_id` of this loop closed (called for every connection; most hold no poll).
  void connection_closed(uint64_t conn_id);
  size_t size() const { return sessions_.size(); }

  void add_stream(uint64_t conn_id, XhrStream* stream) { streams_[conn_id] = stream; }
  void remove_stream(uint64_t conn_id) { streams_.erase(conn_id); }
  XhrStream* stream(uint64_t conn_id) const {
    auto it = streams_.find(conn_id);
    return it == streams_.end() ? nullptr : it->second;
  }

  Endpoint& endpoint() { return endpoint_; }

 private:
  friend class XhrSession;
  void erase_soon(const XhrSession* session);

  Endpoint& endpoint_;
  std::unordered_map<uint64_t, XhrStream*> streams_;
  struct CarriedPoll {
    std::string path;
    int target = 0;
  };
  std::unordered_map<uint64_t, CarriedPoll> polls_;  // by connection id
  SendDecoder decoder_;  // xhr_send bodies
  std::vector<std::string_view> events_;
  std::unordered_map<std::string, std::unique_ptr<XhrSession>, StringHash, std::equal_to<>>
      sessions_;
};

}  // namespace herald::pusher
