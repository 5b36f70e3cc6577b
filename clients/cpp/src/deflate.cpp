#include "herald/client/deflate.h"

#include <zlib.h>

#include <cstring>

namespace herald::client {
namespace {
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
constexpr size_t kChunk = 16 * 1024;
}  // namespace

Inflater::Inflater(int window_bits, bool no_context_takeover)
    : z_(new z_stream{}), no_context_takeover_(no_context_takeover) {
  // A window of 15 can inflate anything a smaller window produced, so the advertised size is
  // only an upper bound for us.
  (void)window_bits;
  ok_ = inflateInit2(z_, -15) == Z_OK;
}

Inflater::~Inflater() {
  if (ok_) {
    inflateEnd(z_);
  }
  delete z_;
}

FrameError Inflater::inflate_message(std::string_view in, uint64_t max_size, std::string& out) {
  out.clear();
  if (!ok_) {
    return FrameError::kInflateFailed;
  }
  bool ended = false;  // a block with BFINAL set: the stream is over, the rest must be empty
  auto run = [&](const unsigned char* data, size_t len) -> FrameError {
    z_->next_in = const_cast<unsigned char*>(data);
    z_->avail_in = static_cast<uInt>(len);
    // Bounded: every round either produces output (capped by max_size) or consumes input, or
    // the loop ends.
    while (true) {
      size_t at = out.size();
      out.resize(at + kChunk);
      z_->next_out = reinterpret_cast<unsigned char*>(out.data() + at);
      z_->avail_out = static_cast<uInt>(kChunk);
      uInt in_before = z_->avail_in;
      int rc = inflate(z_, Z_SYNC_FLUSH);
      out.resize(at + kChunk - z_->avail_out);
      if (out.size() > max_size) {
        return FrameError::kMessageTooLarge;
      }
      if (rc == Z_STREAM_END) {
        ended = true;
        return z_->avail_in == 0 ? FrameError::kNone : FrameError::kInflateFailed;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return FrameError::kInflateFailed;
      }
      if (z_->avail_out != 0) {
        // zlib stopped with room to spare: it has consumed all it can.
        return z_->avail_in == 0 ? FrameError::kNone : FrameError::kInflateFailed;
      }
      if (z_->avail_in == in_before && out.size() == at) {
        return FrameError::kInflateFailed;  // no progress at all
      }
    }
  };
  FrameError err = run(reinterpret_cast<const unsigned char*>(in.data()), in.size());
  if (err == FrameError::kNone && !ended) {
    err = run(kTail, sizeof(kTail));
  }
  if (err != FrameError::kNone || no_context_takeover_ || ended) {
    inflateReset(z_);
  }
  return err;
}

Deflater::Deflater(int window_bits, bool no_context_takeover)
    : z_(new z_stream{}), no_context_takeover_(no_context_takeover) {
  ok_ = deflateInit2(z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) ==
        Z_OK;
}

Deflater::~Deflater() {
  if (ok_) {
    deflateEnd(z_);
  }
  delete z_;
}

bool Deflater::deflate_message(std::string_view in, std::string& out) {
  out.clear();
  if (!ok_) {
    return false;
  }
  z_->next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(in.data()));
  z_->avail_in = static_cast<uInt>(in.size());
  while (true) {
    size_t at = out.size();
    size_t grow = deflateBound(z_, z_->avail_in) + 16;
    out.resize(at + grow);
    z_->next_out = reinterpret_cast<unsigned char*>(out.data() + at);
    z_->avail_out = static_cast<uInt>(grow);
    int rc = deflate(z_, Z_SYNC_FLUSH);
    out.resize(at + grow - z_->avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return false;
    }
    if (z_->avail_in == 0 && z_->avail_out != 0) {
      break;
    }
  }
  if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, kTail, 4) == 0) {
    out.resize(out.size() - 4);
  }
  if (no_context_takeover_) {
    deflateReset(z_);
  }
  return true;
}

}  // namespace herald::client
