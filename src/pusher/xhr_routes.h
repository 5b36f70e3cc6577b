#pragma once
// pusher-js's HTTP fallbacks, the request side: the routes under /pusher/app/ (see
// xhr_session.h for the session and its frames) and XhrStream, the mode of a connection that
// answers xhr_streaming.
//
// A session lives on the loop its path hashes to; a request arriving on another loop is relayed
// there. Polls and sends go through transport::answer_from (the relay of the Herald protocol's
// long-polling); a stream keeps its connection on its own loop and asks the session's loop for
// its next frames again each time it has written the last ones, so the session's queue, not the
// stream, holds what the client has not taken (and a slow stream shows as a session over its
// cap). Thread: the loop of the request's connection.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"
#include "transport/connection.h"
#include "transport/http_session.h"

namespace herald::pusher {

class Endpoint;
struct App;

// Routes a request whose path starts with /pusher/app/.
void serve_xhr(Endpoint& endpoint, transport::HttpSession& http, const http::Request& req,
               std::string_view body);

// The loop that holds session `path` ("<key>/<server>/<session>") among loop_count.
int xhr_session_loop(std::string_view path, int loop_count);

// A connection answering xhr_streaming: a close-delimited response of frames, written as the
// session's loop hands them over. Owned by its Connection (as its Mode); registered with its
// loop's XhrSessions so that relayed answers find it by connection id. Thread: its loop only.
class XhrStream final : public transport::Mode {
 public:
  XhrStream(transport::Connection& conn, Endpoint& home, const App& app, std::string path);
  ~XhrStream() override;

  // Writes the response head (with `cors`) and asks for the first frames ("o" and
  // connection_established for a new session).
  void open(std::string_view cors);
  // Frames from the session; last: the session closed or another stream took its place.
  void on_answer(std::string frames, bool last);

  // Mode
  size_t on_data(uint8_t* data, size_t size) override;
  void on_timeout() override;
  void on_closed(net::CloseReason reason) override;
  void drain() override;

 private:
  void request();  // asks the session's loop for the frames after those written

  transport::Connection& conn_;
  Endpoint& home_;
  const App& app_;
  std::string path_;
  int target_;
  bool registered_ = false;
  bool done_ = false;
};

}  // namespace herald::pusher
