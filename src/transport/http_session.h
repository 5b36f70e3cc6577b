#pragma once
// HttpSession: the HTTP/1.1 side of a connection: request heads parsed with strict limits,
// keep-alive, pipelined requests answered in order, and the hand-over to another mode (a
// WebSocket upgrade). Every complete request goes to LoopServices::route(), which answers it
// through this object. Owned by its Connection (as its Mode). Thread: owning loop only.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "herald/websocket.h"
#include "http/request_parser.h"
#include "transport/connection.h"
#include "transport/sse.h"

namespace herald::transport {

class HttpSession final : public Mode {
 public:
  explicit HttpSession(Connection& conn);
  ~HttpSession() override;

  // Answers go out in request order. respond() answers the request being routed. An answer that
  // needs a broker round trip takes a ticket (begin_async) and is given later (answer_async);
  // meanwhile up to kMaxPipelined later requests are parsed and answered, their answers held
  // until those before them are out, so a backend that pipelines publishes keeps many in flight.
  static constexpr size_t kMaxPipelined = 128;
  void respond(int status, std::string_view content_type, std::string_view body, bool keep_alive,
               std::string_view extra_headers = {});
  // The head alone: for HEAD requests (content_length is what a GET's body would have) and 304.
  void respond_head(int status, std::string_view content_type, size_t content_length,
                    bool keep_alive, std::string_view extra_headers = {});
  // timeout_ms: how long the connection waits for this answer (0: head_timeout; a held poll
  // passes its own).
  uint64_t begin_async(uint32_t timeout_ms = 0);
  bool has_held_answers() const { return !held_.empty(); }
  void answer_async(uint64_t ticket, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers = {});

  // Completes a WebSocket handshake for the request being routed and hands the connection to a
  // WebSocketSession serving `handler` (which must outlive it: handlers live as long as the
  // loop). A refused handshake is answered (400/426) and the connection closes.
  // subprotocols: what the route speaks, in order of preference (see ws::HandshakeConfig).
  void upgrade_websocket(const http::Request& req, Handler& handler, std::string_view path,
                         const std::vector<std::string_view>& subprotocols = {});

  // Answers the request being routed with an event stream and hands the connection to an
  // SseStream (see sse.h), which then runs `commands`.
  void start_sse(std::string session_id, std::vector<SseStream::Position> positions,
                 std::string_view commands, std::string_view extra_headers);

  // Hands the connection to `mode` for the rest of its life after the request being routed (a
  // response that streams: pusher-js's xhr_streaming); nothing more is parsed. The caller then
  // starts the mode (it writes its own response head).
  void hand_over(std::unique_ptr<Mode> mode);

  Connection& conn() { return conn_; }

  size_t on_data(uint8_t* data, size_t size) override;
  void on_timeout() override;
  void on_closed(net::CloseReason reason) override;
  void drain() override;

 private:
  // Writes the answers at the front of held_ that are ready, in order.
  void flush_held();
  // Writes one complete answer now, or holds it behind the answers still owed.
  void write_answer(std::string bytes, bool keep_alive);

  // Gives the parser back to the loop's pool when no partial request is buffered: an idle
  // keep-alive connection, or one whose poll is being held, needs none (1.7 KiB each).
  void release_parser_if_idle(size_t consumed, size_t size);

  Connection& conn_;
  LoopServices& services_;
  std::unique_ptr<http::RequestParser> parser_;  // null between requests
  bool saw_request_bytes_ = false;
  bool last_request_ = false;  // a request without keep-alive was read: parse no more
  bool upgraded_ = false;      // the connection now has another mode: touch nothing more
  // Answers not written yet, in request order, while at least one is being prepared elsewhere
  // (empty otherwise). A vector: a held poll keeps one answer here, and a deque's first block
  // alone is 512 bytes.
  struct HeldAnswer {
    uint64_t ticket = 0;
    bool ready = false;
    bool keep_alive = true;
    std::string bytes;
  };
  std::vector<HeldAnswer> held_;
  uint64_t next_ticket_ = 0;
};

}  // namespace herald::transport
