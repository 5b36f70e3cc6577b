#pragma once
// RedisConnection: one non-blocking TCP connection to one Redis, on one event loop. It connects,
// logs in (AUTH user pass, SELECT db), sends pipelined commands (whatever is queued during a loop
// turn leaves in one write at the end of it), matches each reply to its command's callback in
// order, and when anything fails reconnects by itself with exponential backoff and full jitter.
//
// Failing fast: while the connection is not ready, command() fails at once. A command that gets
// no reply within `command_timeout_ms` (a Redis paused or overloaded) drops the connection:
// replies could no longer be matched safely, so every waiting callback gets an Error ("outcome
// unknown": the command may still run) and a new connection is made.
//
// The bytes travel through a net::ClientSocket, which also does TLS (`rediss://`): after the TCP
// connect, the TLS handshake (the server's certificate checked against Options::tls and the URL's
// host) runs on the same loop, bytes in and out as they come; the Redis handshake
// (AUTH/SELECT/PING) follows, and from then on the plaintext written and parsed is the same as
// without TLS.
//
// Subscriber mode (`Options::subscriber`): the connection for SUBSCRIBE. After the handshake every
// reply (subscribe confirmations, messages) goes to Listener::on_push in arrival order; send()
// writes a command without a callback. It PINGs every `ping_interval_ms` and drops itself when a
// PONG is `command_timeout_ms` late, so a dead Redis is noticed even when no message flows.
//
// Thread: owning loop only (construct anywhere, then start() on the loop).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "broker/redis_metrics.h"
#include "broker/redis_url.h"
#include "broker/resp.h"
#include "net/client_socket.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "net/tls_context.h"

namespace herald::broker {

class RedisConnection final : private net::ClientSocket::Listener, private net::Timer {
 public:
  struct Options {
    RedisUrl url;
    uint32_t command_timeout_ms = 1'000;  // a reply later than this drops the connection
    uint32_t connect_timeout_ms = 1'000;  // TCP connect plus AUTH/SELECT
    uint32_t backoff_min_ms = 50;         // first retry after a failure (with full jitter)...
    uint32_t backoff_max_ms = 2'000;      // ...doubling up to this
    bool subscriber = false;
    uint32_t ping_interval_ms = 1'000;  // subscriber mode only
    // The client context of rediss:// URLs (TlsContext::load_client); unused for redis://.
    std::shared_ptr<const net::TlsContext> tls;
    // Where this connection counts what it does (the broker's; null: nowhere that is shown).
    RedisMetrics* metrics = nullptr;
  };

  // Told when the connection becomes usable and when it stops being so. Thread: the loop's.
  class Listener {
   public:
    virtual ~Listener() = default;
    // Handshake done: commands may be sent (a subscriber resubscribes here).
    virtual void on_ready(RedisConnection& c) = 0;
    // The connection failed (it was ready before, or a connect attempt failed); a reconnect is
    // scheduled. Every pending callback has been failed before this is called.
    virtual void on_down(RedisConnection& c, const std::string& why) = 0;
    // Subscriber mode: a reply that is not the handshake's or a PONG.
    virtual void on_push(RedisConnection& /*c*/, resp::Reply& /*reply*/) {}
  };

  using Callback = std::function<void(Result<resp::Reply>)>;

  RedisConnection(net::EventLoop& loop, Options options, Listener* listener);
  ~RedisConnection() override;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts connecting (and keeps reconnecting until stop()).
  void start();
  // Closes the connection, fails every pending callback, and stops reconnecting.
  void stop();
  bool ready() const { return state_ == State::kReady; }

  // Sends a command; `done` gets its reply (a Redis error reply is a reply: check is_error()),
  // or an Error when the connection is not ready or fails before the reply comes. `done` may be
  // empty. It never runs inside this call.
  void command(const std::vector<std::string_view>& args, Callback done);
  // Subscriber mode: sends a command whose replies come to on_push. False when not ready.
  bool send(const std::vector<std::string_view>& args);

  const Options& options() const { return options_; }
  uint64_t connects() const { return connects_; }  // successful handshakes so far

 private:
  // kConnecting: TCP, then TLS for rediss:// (socket_.phase() says which); kHandshake:
  // AUTH/SELECT/PING.
  enum class State : uint8_t { kIdle, kWaiting, kConnecting, kHandshake, kReady, kStopped };
  struct Pending {
    Callback done;
    uint64_t sent_ms;  // loop time: the command timeout
    int64_t sent_ns;   // steady clock: the round-trip histogram
  };

  // net::ClientSocket::Listener
  void on_open(net::ClientSocket& socket) override;
  void on_data(net::ClientSocket& socket, const uint8_t* data, size_t size) override;
  void on_closed(net::ClientSocket& socket, net::ClientSocket::End end,
                 const std::string& why) override;
  void on_timer() override;
  void connect_now();
  void begin_handshake();
  // Closes the connection, fails every pending callback (counted as `reason`), schedules a
  // reconnect and tells the listener.
  void fail(const std::string& why, RedisFailure reason = RedisFailure::kConnectionLost);
  void schedule_retry();
  void close_socket();
  // False once the connection failed or was stopped (a callback may do either).
  bool socket_live() const { return socket_.phase() != net::ClientSocket::Phase::kClosed; }
  // Encodes a command and hands it to the socket (it leaves at the end of the loop turn).
  void write_command(const std::vector<std::string_view>& args);
  void dispatch(std::vector<resp::Reply>& replies);
  void queue(const std::vector<std::string_view>& args, Callback done);
  void arm_tick();

  net::EventLoop& loop_;
  Options options_;
  RedisMetrics& metrics_;
  size_t role_;  // index of the RedisRole in metrics_
  Listener* listener_;
  State state_ = State::kIdle;
  net::ClientSocket socket_;
  std::string command_;  // scratch: one command encoded before it goes to the socket
  resp::Parser parser_;
  std::deque<Pending> pending_;  // commands sent (or queued), oldest first
  size_t handshake_left_ = 0;    // replies of AUTH/SELECT/PING still expected
  uint64_t deadline_ms_ = 0;     // kConnecting/kHandshake: give up then; kWaiting: retry then
  uint32_t backoff_ms_ = 0;
  uint64_t last_ping_ms_ = 0;
  uint64_t ping_sent_ms_ = 0;  // 0: no PING outstanding
  uint64_t connects_ = 0;
  bool was_ready_ = false;
  std::mt19937 rng_{std::random_device{}()};
  std::vector<resp::Reply> replies_;  // scratch for one read
};

}  // namespace herald::broker
