#include "server/builtin_handlers.h"

namespace herald::server {
namespace {

constexpr std::string_view kChatTopic = "herald.chat";

class ChatRoom final : public Handler {
 public:
  void on_open(WebSocket& ws) override { ws.subscribe(kChatTopic); }
  void on_message(WebSocket& ws, std::string_view data, MessageType type) override {
    ws.publish(kChatTopic, data, type);  // publish() skips the sender
  }
};

class Echo final : public Handler {
 public:
  void on_message(WebSocket& ws, std::string_view data, MessageType type) override {
    ws.send(data, type);
  }
};

}  // namespace

std::unique_ptr<Handler> make_chat_room() { return std::make_unique<ChatRoom>(); }
std::unique_ptr<Handler> make_echo() { return std::make_unique<Echo>(); }

}  // namespace herald::server
