#pragma once
// Connection: one accepted TCP socket, from its first byte to its last. What it does with its
// bytes is its Mode: HTTP/1.1 (HttpSession) for connections accepted by the HTTP listener, which
// may become a WebSocket (WebSocketSession) after an upgrade; raw protocol lines (TcpLines) for
// connections accepted by the TCP listener. Owned by its loop (LoopServices' list); deleted by
// net::Stream at the end of the iteration in which it closed. Thread: owning loop only.

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "net/stream.h"

namespace herald::transport {

class LoopServices;

// The address of peer as 16 bytes (IPv4 as an IPv4-mapped IPv6 address).
std::array<uint8_t, 16> ip_bytes(const sockaddr_storage& peer);

// What a connection does with its bytes now. Owned by its Connection. Thread: the connection's.
class Mode {
 public:
  virtual ~Mode() = default;
  // As net::Stream::on_data: returns how many bytes were consumed.
  virtual size_t on_data(uint8_t* data, size_t size) = 0;
  virtual void on_timeout() = 0;
  // The connection is gone (called once); the mode is destroyed with the connection.
  virtual void on_closed(net::CloseReason reason) = 0;
  // The server is stopping: end politely (a WebSocket gets close 1001).
  virtual void drain() = 0;
};

class Connection final : public net::Stream {
 public:
  Connection(LoopServices& services, int fd, const sockaddr_storage& peer, uint64_t id);
  ~Connection() override;

  // Replaces the mode. The old one is destroyed only after the current callback returns, so a
  // mode may call this from inside its own on_data.
  void become(std::unique_ptr<Mode> mode);
  Mode* mode() { return mode_.get(); }

  uint64_t id() const { return id_; }
  LoopServices& services() { return *services_; }
  bool peer_is_loopback() const;
  // The peer's address as 16 bytes (IPv4 as an IPv4-mapped IPv6 address), for per-IP limits.
  std::array<uint8_t, 16> peer_ip() const;
  // Formatted on demand into a per-thread buffer: valid until the next call on this thread.
  // (Keeping the text per connection would cost 32 bytes on every idle connection.)
  std::string_view remote_address() const;
  // The loop's now_ms() when the connection was accepted (kept in 32 bits, in what was padding:
  // right for connections younger than 49 days).
  uint64_t opened_ms() const {
    uint64_t now = loop().now_ms();
    return now - static_cast<uint32_t>(static_cast<uint32_t>(now) - opened_ms32_);
  }

  // LoopServices' intrusive list.
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  size_t on_data(uint8_t* data, size_t size) override;
  void on_closed(net::CloseReason reason) override;
  void on_timeout() override;
  void on_tls_handshake() override;

  LoopServices* services_;
  uint64_t id_;
  sockaddr_in6 peer_{};  // IPv4 peers stored as sockaddr_in in the same bytes
  uint32_t opened_ms32_;  // fills the 4 bytes after peer_: costs no memory
  std::unique_ptr<Mode> mode_;
  std::unique_ptr<Mode> retired_;  // the mode replaced during the current callback
};

}  // namespace herald::transport
