#include "http/chunked_decoder.h"

#include <algorithm>

#include "http/chars.h"

namespace herald::http {

ChunkedDecoder::ChunkedDecoder(const Limits& limits)
    : max_body_(limits.max_body), max_trailer_(limits.max_header_line) {}

void ChunkedDecoder::reset() {
  state_ = State::kSize;
  error_ = ParseError::kNone;
  size_ = 0;
  size_digits_ = 0;
  line_bytes_ = 0;
  remaining_ = 0;
  body_size_ = 0;
  trailer_bytes_ = 0;
}

ChunkedDecoder::Status ChunkedDecoder::fail(ParseError error, size_t at, size_t& consumed) {
  state_ = State::kFailed;
  error_ = error;
  consumed = at;
  return Status::kError;
}

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, size_t& consumed,
                                            std::string& body_out) {
  consumed = 0;
  if (state_ == State::kDone) {
    return Status::kDone;
  }
  if (state_ == State::kFailed) {
    return Status::kError;
  }
  size_t i = 0;
  while (i < in.size()) {
    if (state_ == State::kData) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
      body_out.append(in.data() + i, n);
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) {
        state_ = State::kDataCr;
      }
      continue;
    }
    char c = in[i];
    switch (state_) {
      case State::kSize:
      case State::kSizeSpace:
      case State::kExtension:
      case State::kSizeLf:
        if (++line_bytes_ > kMaxSizeLine) {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        break;
      case State::kTrailerStart:
      case State::kTrailer:
      case State::kTrailerLf:
      case State::kFinalLf:
        if (++trailer_bytes_ > max_trailer_) {
          return fail(ParseError::kTrailerTooLarge, i, consumed);
        }
        break;
      default:
        break;
    }
    switch (state_) {
      case State::kSize:
        if (int d = chars::hex_value(c); d >= 0) {
          if (size_ > (UINT64_MAX >> 4)) {
            return fail(ParseError::kBadChunk, i, consumed);  // would overflow 64 bits
          }
          size_ = (size_ << 4) | static_cast<uint64_t>(d);
          ++size_digits_;
        } else if (size_digits_ == 0) {
          return fail(ParseError::kBadChunk, i, consumed);
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kSizeSpace;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        break;
      case State::kSizeSpace:
        if (c == ';') {
          state_ = State::kExtension;
        } else if (c != ' ' && c != '\t') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        break;
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!chars::is(c, chars::kFieldValue)) {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        break;
      case State::kSizeLf:
        if (c != '\n') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        if (size_ == 0) {
          state_ = State::kTrailerStart;
        } else if (size_ > max_body_ - body_size_) {
          return fail(ParseError::kBodyTooLarge, i, consumed);
        } else {
          body_size_ += size_;
          remaining_ = size_;
          state_ = State::kData;
        }
        break;
      case State::kDataCr:
        if (c != '\r') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        state_ = State::kSize;
        size_ = 0;
        size_digits_ = 0;
        line_bytes_ = 0;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else if (!chars::is(c, chars::kFieldValue)) {
          return fail(ParseError::kBadChunk, i, consumed);
        } else {
          state_ = State::kTrailer;
        }
        break;
      case State::kTrailer:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (!chars::is(c, chars::kFieldValue)) {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        break;
      case State::kTrailerLf:
        if (c != '\n') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        state_ = State::kTrailerStart;
        break;
      case State::kFinalLf:
        if (c != '\n') {
          return fail(ParseError::kBadChunk, i, consumed);
        }
        state_ = State::kDone;
        consumed = i + 1;
        return Status::kDone;
      case State::kData:
      case State::kDone:
      case State::kFailed:
        break;  // handled above
    }
    ++i;
  }
  consumed = in.size();
  return Status::kNeedMore;
}

}  // namespace herald::http
