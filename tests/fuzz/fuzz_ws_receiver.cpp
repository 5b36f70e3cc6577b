// Fuzzes ws::Receiver: random bytes fed in chunks whose sizes come from the input, with and
// without an Inflater. Oracle: the chunked run must report exactly what a single whole-buffer
// run reports (events and error), delivered text must be UTF-8, and the caller never has to
// keep more than an incomplete header.
//
// Input: [flags][n][n chunk-size bytes][stream...]
//   flags bit 0: deflate negotiated; bit 1: client_no_context_takeover.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "ws/deflate.h"
#include "ws/receiver.h"
#include "ws/utf8.h"

namespace {

using herald::ws::Opcode;

class Collect : public herald::ws::Receiver::Events {
 public:
  void on_message(Opcode op, std::string_view payload) override {
    if (op != Opcode::kText && op != Opcode::kBinary) {
      std::abort();
    }
    if (op == Opcode::kText && !herald::ws::is_valid_utf8(payload)) {
      std::abort();
    }
    add(op == Opcode::kText ? 'T' : 'B', payload);
  }
  void on_ping(std::string_view p) override { control('P', p); }
  void on_pong(std::string_view p) override { control('O', p); }
  void on_close(uint16_t code, std::string_view reason) override {
    if (code != herald::ws::kCloseNoStatus && !herald::ws::is_valid_received_close_code(code)) {
      std::abort();
    }
    control('C', std::to_string(code) + ":" + std::string(reason));
  }
  std::vector<std::string> events;

 private:
  void control(char kind, std::string_view p) {
    if (p.size() > 125 + 6) {
      std::abort();
    }
    add(kind, p);
  }
  void add(char kind, std::string_view p) { events.push_back(kind + std::string(p)); }
};

struct Run {
  std::vector<std::string> events;
  herald::ws::ReceiveError error;
  bool closed;
};

Run run(const std::string& stream, const std::vector<size_t>& chunks, bool deflate,
        bool no_takeover) {
  herald::ws::ReceiverLimits limits;
  limits.max_frame_payload = 1 << 16;
  limits.max_message = 1 << 17;
  std::unique_ptr<herald::ws::Inflater> inflater;
  if (deflate) {
    herald::ws::DeflateParams p;
    p.client_no_context_takeover = no_takeover;
    inflater = std::make_unique<herald::ws::Inflater>(p, 1 << 18);
  }
  herald::ws::Receiver r(limits, inflater.get());
  Collect c;
  std::string pending;
  size_t pos = 0;
  size_t i = 0;
  while (pos < stream.size()) {
    size_t k = chunks.empty() ? stream.size() : chunks[i++ % chunks.size()];
    k = std::min(k, stream.size() - pos);
    pending.append(stream, pos, k);
    pos += k;
    size_t used = r.consume(reinterpret_cast<uint8_t*>(pending.data()), pending.size(), c);
    if (r.error() != herald::ws::ReceiveError::kNone || r.closed()) {
      break;
    }
    if (used > pending.size()) {
      std::abort();
    }
    pending.erase(0, used);
    if (pending.size() >= 14) {
      std::abort();
    }
  }
  return {std::move(c.events), r.error(), r.closed()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const bool deflate = (data[0] & 1) != 0;
  const bool no_takeover = (data[0] & 2) != 0;
  size_t n = data[1] % 16;
  if (size < 2 + n) {
    return 0;
  }
  std::vector<size_t> chunks;
  for (size_t i = 0; i < n; ++i) {
    chunks.push_back(1 + data[2 + i]);
  }
  std::string stream(reinterpret_cast<const char*>(data) + 2 + n, size - 2 - n);
  Run whole = run(stream, {}, deflate, no_takeover);
  Run pieces = run(stream, chunks.empty() ? std::vector<size_t>{1} : chunks, deflate, no_takeover);
  if (whole.events != pieces.events || whole.error != pieces.error ||
      whole.closed != pieces.closed) {
    std::abort();
  }
  return 0;
}
