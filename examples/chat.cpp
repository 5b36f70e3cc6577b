// The classic chat room (the Ratchet tutorial's Chat class) on Herald's library API.
// Build: cmake --build --preset release --target example_chat
// Run:   build/release/examples/example_chat 127.0.0.1:9000   then connect to ws://127.0.0.1:9000/

#include <herald/server.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

namespace {

class Chat : public herald::Handler {
 public:
  void on_open(herald::WebSocket& conn) override {
    conn.subscribe("room");
    std::printf("new connection %llu from %.*s\n", static_cast<unsigned long long>(conn.id()),
                static_cast<int>(conn.remote_address().size()), conn.remote_address().data());
  }

  // Every other member of the room gets the message; publish() skips the sender. The message is
  // framed once and shared by every recipient, on every event loop.
  void on_message(herald::WebSocket& from, std::string_view msg, herald::MessageType type) override {
    from.publish("room", msg, type);
  }

  void on_close(herald::WebSocket& conn, uint16_t code, std::string_view) override {
    std::printf("connection %llu closed (%u)\n", static_cast<unsigned long long>(conn.id()), code);
  }

  void on_error(herald::WebSocket& conn, std::string_view what) override {
    std::printf("connection %llu failed: %.*s\n", static_cast<unsigned long long>(conn.id()),
                static_cast<int>(what.size()), what.data());
  }
};

}  // namespace

int main(int argc, char** argv) {
  herald::ServerOptions options;
  options.listen = argc > 1 ? argv[1] : "127.0.0.1:9000";
  herald::Server server(options);
  server.websocket("/", [] { return std::make_unique<Chat>(); });

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // loop threads inherit the mask

  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "cannot start: %s\n", started.error().c_str());
    return 1;
  }
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  std::printf("chat server on ws://%s:%u/\n", host.c_str(), server.port());  // port 0: the real one
  std::fflush(stdout);
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();  // every client gets close 1001
  }).detach();
  server.run();
  return 0;
}
