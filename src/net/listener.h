#pragma once
// Listener: one listening TCP socket registered with one EventLoop. With SO_REUSEPORT every loop
// binds its own socket to the same address, and the kernel spreads new connections across them,
// so accepting needs no lock and no hand-off between threads. Thread: owning loop only.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "net/event_loop.h"

namespace herald::net {

struct Endpoint {
  std::string host;  // numeric IPv4 / IPv6 address, or "localhost"
  uint16_t port = 0;
};

// Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces, IPv4).
Result<Endpoint> parse_endpoint(std::string_view text);
std::string format_endpoint(const sockaddr_storage& addr);

// Fails with "HOST:PORT is already in use" when any socket, of this process or another, listens
// on the address. Listener::open binds with SO_REUSEPORT, which would let a second server (same
// user) share the port and take part of its connections without a word; the server calls this
// first so that it refuses to start instead. (Two servers starting in the same instant can both
// pass: the check and the bind are not one step.) Port 0 always passes.
Result<Ok> ensure_address_free(const Endpoint& endpoint);

class Listener : public IoHandler {
 public:
  // Called for each accepted, already non-blocking socket; the callee owns fd.
  using AcceptFn = std::function<void(int fd, const sockaddr_storage& peer)>;

  Listener(EventLoop& loop, AcceptFn on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds with SO_REUSEPORT and starts listening. Port 0 picks a free port; bound_port() says which.
  Result<Ok> open(const Endpoint& endpoint, int backlog = 4096);
  uint16_t bound_port() const { return port_; }
  // Stops accepting (closes the socket); existing connections are not touched.
  void close();

  void on_io(uint32_t epoll_events) override;

 private:
  EventLoop* loop_;
  AcceptFn on_accept_;
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace herald::net
