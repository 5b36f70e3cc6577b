#pragma once
// The embeddable API, part 1: a WebSocket connection as an application sees it, and the handler
// an application implements (the Ratchet shape: on_open / on_message / on_close / on_error).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald {

enum class MessageType : uint8_t { kText = 1, kBinary = 2 };

// What send() did with the message.
enum class SendStatus : uint8_t {
  kOk,            // queued; the connection keeps up
  kBackpressure,  // queued, but the peer is behind: buffered_amount() is over the high-water mark
  kDropped,       // not sent: the connection is closing or was closed for reading too slowly
};

// A live WebSocket connection. Owned by its event loop; the reference passed to a handler is valid
// until on_close() returns. Thread: the loop that called the handler only.
class WebSocket {
 public:
  virtual SendStatus send(std::string_view data, MessageType type = MessageType::kText) = 0;
  // Starts the closing handshake. code must be one an endpoint may send (1000-1003, 1007-1014,
  // 3000-4999); reason is cut to 123 bytes.
  virtual void close(uint16_t code = 1000, std::string_view reason = {}) = 0;

  // Topics: a per-server publish/subscribe index. publish() frames the message once and every
  // subscriber on every event loop gets a reference to the same bytes. The publisher itself is
  // skipped, as in a chat room.
  virtual void subscribe(std::string_view topic) = 0;
  virtual void unsubscribe(std::string_view topic) = 0;
  virtual void publish(std::string_view topic, std::string_view data,
                       MessageType type = MessageType::kText) = 0;

  virtual size_t buffered_amount() const = 0;
  virtual uint64_t id() const = 0;
  virtual std::string_view path() const = 0;
  virtual std::string_view remote_address() const = 0;

  // Free for the application (Ratchet's `$conn->data`); Herald never touches it.
  void* user_data = nullptr;

 protected:
  ~WebSocket() = default;
};

// Implemented by the application. One instance per event loop (see Server::websocket), so a
// handler may keep per-loop state without locks.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_open(WebSocket& /*ws*/) {}
  virtual void on_message(WebSocket& /*ws*/, std::string_view /*data*/, MessageType /*type*/) {}
  // Called once per connection, after the close handshake or when the connection was lost
  // (code 1006). The connection can no longer send.
  virtual void on_close(WebSocket& /*ws*/, uint16_t /*code*/, std::string_view /*reason*/) {}
  // The peer broke the protocol or could not keep up; on_close follows.
  virtual void on_error(WebSocket& /*ws*/, std::string_view /*what*/) {}
};

}  // namespace herald
