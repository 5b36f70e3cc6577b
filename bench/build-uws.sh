#!/usr/bin/env bash
# Builds the uWebSockets server that bench/RESULTS.md compares herald with, under /tmp. Nothing
# of uWebSockets or uSockets enters this repository: their sources are exported from git (a
# local mirror, or a clone made here) into OUT, and the small server below is written there.
#
#   bench/build-uws.sh                 # -> /tmp/uws/server
#   OUT=/tmp/uws2 bench/build-uws.sh
#   UWS_GIT=/path/uWebSockets.git USOCKETS_GIT=/path/uSockets.git bench/build-uws.sh
#
# Versions: uWebSockets v20.79.0 and uSockets 86097c4 (the submodule commit of that tag), the
# ones of the earlier runs in RESULTS.md. uSockets is built WITH_OPENSSL=1 (Debian's libssl-dev,
# the same OpenSSL 3 herald links), so one binary serves ws:// or, given a certificate, wss://:
#
#   /tmp/uws/server PORT                       # plain: ws://127.0.0.1:PORT/chat and /echo
#   UWS_TLS_CERT=c.pem UWS_TLS_KEY=k.pem /tmp/uws/server PORT   # the same over TLS (wss://)
#
# PORT 0 takes any free port; the first stdout line is "listening PORT" (what bench/lib.sh's
# start_server waits for). /chat = ws->publish("chat", msg) to every other client of the room,
# /echo = ws->send(msg): herald's /chat and /echo. 16 MiB messages, 64 MiB backpressure, no
# compression, one loop (one thread), as herald --threads 1.
set -euo pipefail

OUT=${OUT:-/tmp/uws}
UWS_TAG=v20.79.0
USOCKETS_COMMIT=86097c490263ab662d62e8e7b541390bdec7d149
UWS_GIT=${UWS_GIT:-/work/.mirror/uNetworking+uWebSockets/repo}
USOCKETS_GIT=${USOCKETS_GIT:-/work/.mirror/uNetworking+uSockets/repo}

mkdir -p "$OUT/src"
if [[ ! -d "$UWS_GIT" ]]; then
  UWS_GIT=$OUT/src/uWebSockets.git
  [[ -d "$UWS_GIT" ]] || git clone --bare https://github.com/uNetworking/uWebSockets "$UWS_GIT"
fi
if [[ ! -d "$USOCKETS_GIT" ]]; then
  USOCKETS_GIT=$OUT/src/uSockets.git
  [[ -d "$USOCKETS_GIT" ]] || git clone --bare https://github.com/uNetworking/uSockets "$USOCKETS_GIT"
fi

SRC=$OUT/src/uWebSockets-$UWS_TAG
rm -rf "$SRC"
mkdir -p "$SRC/uSockets"
git --git-dir "$UWS_GIT" archive "$UWS_TAG" | tar -x -C "$SRC"
git --git-dir "$USOCKETS_GIT" archive "$USOCKETS_COMMIT" | tar -x -C "$SRC/uSockets"

# uSockets with OpenSSL (its Makefile: -O3 -flto, C11 and the C++17 SNI tree).
make -C "$SRC/uSockets" WITH_OPENSSL=1 >"$OUT/usockets-build.log" 2>&1

cat >"$OUT/server.cpp" <<'CPP'
// The comparison server of herald's bench/RESULTS.md (written for it; not part of uWebSockets).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "App.h"

namespace {

struct PerSocket {};

template <bool SSL>
void serve(uWS::TemplatedApp<SSL>& app, int port) {
  app.template ws<PerSocket>("/chat", {
      .compression = uWS::DISABLED,
      .maxPayloadLength = 16 * 1024 * 1024,
      .idleTimeout = 120,
      .maxBackpressure = 64 * 1024 * 1024,
      .open = [](auto* ws) { ws->subscribe("chat"); },
      // From the socket: every subscriber but the sender, as herald's /chat.
      .message = [](auto* ws, std::string_view msg, uWS::OpCode op) {
        ws->publish("chat", msg, op);
      },
  });
  app.template ws<PerSocket>("/echo", {
      .compression = uWS::DISABLED,
      .maxPayloadLength = 16 * 1024 * 1024,
      .idleTimeout = 120,
      .maxBackpressure = 64 * 1024 * 1024,
      .message = [](auto* ws, std::string_view msg, uWS::OpCode op) { ws->send(msg, op); },
  });
  app.listen("127.0.0.1", port, [](us_listen_socket_t* ls) {
    if (ls == nullptr) {
      std::fprintf(stderr, "cannot listen\n");
      std::exit(1);
    }
    std::printf("listening %d\n",
                us_socket_local_port(SSL, reinterpret_cast<us_socket_t*>(ls)));
    std::fflush(stdout);
  });
  app.run();
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  const char* cert = std::getenv("UWS_TLS_CERT");
  const char* key = std::getenv("UWS_TLS_KEY");
  if (cert != nullptr && key != nullptr) {
    uWS::SSLApp app({.key_file_name = key, .cert_file_name = cert});
    serve<true>(app, port);
  } else {
    uWS::App app;
    serve<false>(app, port);
  }
  return 0;
}
CPP

${CXX:-g++} -std=c++2b -O3 -flto -DUWS_NO_ZLIB -I"$SRC/src" -I"$SRC/uSockets/src" \
  "$OUT/server.cpp" "$SRC/uSockets/uSockets.a" -lssl -lcrypto -o "$OUT/server"
echo "built $OUT/server (uWebSockets $UWS_TAG, uSockets ${USOCKETS_COMMIT:0:7}, WITH_OPENSSL=1)"
