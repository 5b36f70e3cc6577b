// Fuzzes net::TlsSession, the server side of a TLS connection, with what a client could send in
// place of a ClientHello and the records after it (seeds: real TLS 1.2 and 1.3 ClientHellos).
// The first byte sets the size of the pieces the input is given in. Checked: read() never
// returns more plaintext than asked, never asks for a retry while input is left (kWantRead
// means all of it was consumed), a failed session stays failed, nothing is encrypted before a
// handshake, and OpenSSL's per-thread error queue is left empty after every call.

#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "net/event_loop.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "../unit/net/tls_test_util.h"

namespace {

using herald::net::EventLoop;
using herald::net::TlsContext;
using herald::net::TlsSession;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

struct Fixture {
  Fixture() {
    herald::net::testing::TempDir dir;
    herald::net::testing::PemPair pair = herald::net::testing::make_cert("fuzz", 1);
    auto loaded = TlsContext::load(dir.write("c.pem", pair.cert), dir.write("k.pem", pair.key));
    FUZZ_CHECK(loaded.ok());
    ctx = *loaded;
  }
  EventLoop loop{0};  // only its buffer pools are used
  std::shared_ptr<const TlsContext> ctx;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  if (size == 0) {
    return 0;
  }
  size_t piece = 1 + data[0] % 64;
  if (data[0] >= 192) {
    piece = size;  // whole, in one go
  }
  ++data;
  --size;
  std::unique_ptr<TlsSession> s = TlsSession::create(*fixture->ctx, fixture->loop);
  FUZZ_CHECK(s != nullptr);
  uint8_t out[3000];
  bool failed = false;
  for (size_t pos = 0; pos < size && !failed; pos += piece) {
    size_t n = piece < size - pos ? piece : size - pos;
    s->give_input(data + pos, n);
    for (;;) {
      size_t before = s->output_size();
      TlsSession::ReadResult r = s->read(out, sizeof(out));
      FUZZ_CHECK(r.bytes <= sizeof(out));
      FUZZ_CHECK(s->output_size() >= before);
      FUZZ_CHECK(ERR_peek_error() == 0);
      if (r.status == TlsSession::Status::kOk) {
        FUZZ_CHECK(r.bytes == sizeof(out));
        continue;
      }
      if (r.status == TlsSession::Status::kWantRead) {
        // Everything was consumed: asking again with nothing new gives nothing.
        TlsSession::ReadResult again = s->read(out, sizeof(out));
        FUZZ_CHECK(again.bytes == 0 && again.status == TlsSession::Status::kWantRead);
        break;
      }
      if (r.status == TlsSession::Status::kError) {
        FUZZ_CHECK(s->failed());
        FUZZ_CHECK(s->read(out, sizeof(out)).status == TlsSession::Status::kError);
        failed = true;
      }
      break;  // kError or kClosed
    }
    if (!s->handshake_done()) {
      iovec early{const_cast<uint8_t*>(data), n};
      FUZZ_CHECK(s->encrypt(&early, 1, 1 << 16) == 0);
    }
  }
  s->consume_output(s->output_size());
  FUZZ_CHECK(s->output_size() == 0);
  ERR_clear_error();
  return 0;
}
