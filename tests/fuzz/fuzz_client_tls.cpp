// Feeds arbitrary bytes as a server's TLS stream to the client's TlsClientSession (after its
// ClientHello), in pieces: the first byte picks the piece size (0: one byte at a time). The
// server is untrusted: whatever it sends ends in kOk, kClosed or kError, never a crash, and once
// failed the session stays failed. Verification is off so that a certificate gets parsed past
// the chain check (the seeds are real server flights, TLS 1.3 and 1.2).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "herald/client/tls.h"

namespace {

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      std::abort();      \
    }                    \
  } while (0)

const herald::client::TlsClientContext& context() {
  static std::shared_ptr<const herald::client::TlsClientContext> ctx = [] {
    herald::client::TlsOptions o;
    o.verify = false;
    auto made = herald::client::TlsClientContext::create(o);
    FUZZ_CHECK(made.ok());
    return *made;
  }();
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using Status = herald::client::TlsClientSession::Status;
  if (size < 1) {
    return 0;
  }
  const size_t piece_size = data[0] == 0 ? 1 : static_cast<size_t>(data[0]) * 16;
  auto session = herald::client::TlsClientSession::create(context(), "localhost", "http/1.1");
  FUZZ_CHECK(session != nullptr);
  std::string out;
  std::string plain;
  FUZZ_CHECK(session->start(out) == Status::kOk);
  FUZZ_CHECK(!out.empty());  // the ClientHello
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  bool failed = false;
  while (!input.empty()) {
    std::string_view piece = input.substr(0, piece_size);
    input.remove_prefix(piece.size());
    Status s = session->feed(piece, plain, out);
    if (failed) {
      FUZZ_CHECK(s == Status::kError);
    }
    if (s == Status::kError) {
      FUZZ_CHECK(!session->error().empty());
      failed = true;
    }
    if (s == Status::kClosed) {
      break;
    }
  }
  if (!session->handshake_done()) {
    FUZZ_CHECK(plain.empty());  // no application data before the handshake ends
  }
  out.clear();
  Status e = session->encrypt("{}", out);
  FUZZ_CHECK(session->handshake_done() && !failed ? e == Status::kOk : e == Status::kError);
  return 0;
}
