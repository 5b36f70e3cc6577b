// The smallest Herald application: every message comes back to its sender.
// Build: cmake --build --preset release --target example_echo
// Run:   build/release/examples/example_echo 127.0.0.1:9001   then connect to ws://127.0.0.1:9001/

#include <herald/server.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

namespace {

class Echo : public herald::Handler {
 public:
  void on_message(herald::WebSocket& ws, std::string_view msg, herald::MessageType type) override {
    if (ws.send(msg, type) == herald::SendStatus::kBackpressure) {
      // The client reads slower than it writes. A real application would pause its own
      // producer here; Herald still disconnects it if its queue reaches max_output_bytes.
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  herald::ServerOptions options;
  options.listen = argc > 1 ? argv[1] : "127.0.0.1:9001";
  herald::Server server(options);
  server.websocket("/", [] { return std::make_unique<Echo>(); });

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "cannot start: %s\n", started.error().c_str());
    return 1;
  }
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  std::printf("echo server on ws://%s:%u/\n", host.c_str(), server.port());  // port 0: the real one
  std::fflush(stdout);
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  }).detach();
  server.run();
  return 0;
}
