#pragma once
// LinkSocket: one non-blocking TCP socket on a client::Loop, for the links that are not
// WebSockets (raw TCP lines, SSE, long-polling): connect, an output buffer written once per loop
// iteration, and reads handed to its owner as they come. No timers and no parsing: the owner
// does both. Owned by its link. Thread: its loop's thread only.

#include <cstdint>
#include <string>
#include <string_view>

#include "herald/client/loop.h"
#include "herald/client/url.h"

namespace herald::bench {

class LinkSocket final : public client::LoopSocket {
 public:
  // Callbacks from inside client::Loop::run_once. The owner may write, shut down, close or
  // reconnect the socket inside them, but must not destroy it.
  class Owner {
   public:
    virtual ~Owner() = default;
    // The TCP connect completed; what was written before it goes out now.
    virtual void on_socket_connected(LinkSocket& socket) = 0;
    // Bytes read, in the loop's shared read buffer: valid during the call only.
    virtual void on_socket_data(LinkSocket& socket, std::string_view data) = 0;
    // The peer closed (err 0) or the socket failed (an errno); the socket is closed already.
    virtual void on_socket_closed(LinkSocket& socket, int err) = 0;
  };

  LinkSocket(client::Loop& loop, Owner& owner) : loop_(loop), owner_(owner) {}
  ~LinkSocket() override;
  LinkSocket(const LinkSocket&) = delete;
  LinkSocket& operator=(const LinkSocket&) = delete;

  // Starts a non-blocking connect. False (no callback) when it fails at once (last_errno()).
  bool connect(const client::Endpoint& to);
  // Queues bytes; they are written at the end of the loop iteration (or once connected).
  void write(std::string_view bytes);
  // Sends FIN once the queued bytes are out; reading goes on until the peer closes.
  void shutdown_write();
  // Closes the socket now, without a callback; queued bytes are dropped.
  void close();

  bool is_open() const { return fd_ >= 0; }
  bool connected() const { return fd_ >= 0 && connected_; }
  size_t buffered() const { return out_.size() - out_pos_; }
  int last_errno() const { return last_errno_; }

  // client::LoopSocket
  void handle_events(uint32_t events) override;
  void flush() override;

 private:
  void on_connect_done();
  void fail(int err);
  void update_interest();

  client::Loop& loop_;
  Owner& owner_;
  int fd_ = -1;
  uint32_t generation_ = 0;  // bumped by close(): a callback that closed it ends the dispatch
  uint32_t interest_ = 0;
  int last_errno_ = 0;
  bool connected_ = false;
  bool shutdown_wanted_ = false;
  bool shutdown_done_ = false;
  std::string out_;
  size_t out_pos_ = 0;
};

}  // namespace herald::bench
