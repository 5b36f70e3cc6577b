#include "http/request_parser.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "http/chars.h"

namespace herald::http {
namespace {

// Offsets are stored as uint32_t; no sane head limit comes near this.
constexpr size_t kMaxOffset = size_t{1} << 30;

std::string_view view(std::string_view input, size_t begin, size_t end) {
  return input.substr(begin, end - begin);
}

}  // namespace

int status_for(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return 200;
    case ParseError::kUriTooLong:
      return 414;
    case ParseError::kHeadTooLarge:
    case ParseError::kTooManyHeaders:
    case ParseError::kHeaderLineTooLong:
    case ParseError::kTrailerTooLarge:
      return 431;
    case ParseError::kVersionNotSupported:
      return 505;
    case ParseError::kBodyTooLarge:
      return 413;
    case ParseError::kUnsupportedTransferEncoding:
      return 501;
    case ParseError::kBadRequest:
    case ParseError::kBadTarget:
    case ParseError::kBadHeader:
    case ParseError::kObsFold:
    case ParseError::kBadLineEnding:
    case ParseError::kBadContentLength:
    case ParseError::kBadTransferEncoding:
    case ParseError::kLengthConflict:
    case ParseError::kMissingHost:
    case ParseError::kBadHost:
    case ParseError::kBadChunk:
      return 400;
  }
  return 400;
}

std::string_view describe(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "ok";
    case ParseError::kBadRequest:
      return "malformed request line";
    case ParseError::kBadTarget:
      return "malformed request target";
    case ParseError::kBadHeader:
      return "malformed header field";
    case ParseError::kObsFold:
      return "obsolete line folding is not allowed";
    case ParseError::kBadLineEnding:
      return "lines must end with CRLF";
    case ParseError::kUriTooLong:
      return "request line too long";
    case ParseError::kHeadTooLarge:
      return "request header section too large";
    case ParseError::kTooManyHeaders:
      return "too many header fields";
    case ParseError::kHeaderLineTooLong:
      return "header field too long";
    case ParseError::kVersionNotSupported:
      return "HTTP version not supported";
    case ParseError::kBodyTooLarge:
      return "request body too large";
    case ParseError::kBadContentLength:
      return "invalid Content-Length";
    case ParseError::kBadTransferEncoding:
      return "invalid Transfer-Encoding";
    case ParseError::kUnsupportedTransferEncoding:
      return "unsupported transfer coding";
    case ParseError::kLengthConflict:
      return "both Content-Length and Transfer-Encoding";
    case ParseError::kMissingHost:
      return "missing Host header";
    case ParseError::kBadHost:
      return "invalid or repeated Host header";
    case ParseError::kBadChunk:
      return "malformed chunked body";
    case ParseError::kTrailerTooLarge:
      return "chunked trailer too large";
  }
  return "bad request";
}

RequestParser::RequestParser(const Limits& limits) : limits_(limits) {
  limits_.max_headers = std::min(limits_.max_headers, kMaxHeadersHard);
  limits_.max_head_bytes = std::min(limits_.max_head_bytes, kMaxOffset);
}

void RequestParser::reset() {
  phase_ = Phase::kStart;
  error_ = ParseError::kNone;
  line_start_ = 0;
  scan_ = 0;
  head_size_ = 0;
  method_ = Method::kOther;
  version_minor_ = 1;
  root_path_ = false;
  header_count_ = 0;
  has_content_length_ = false;
  content_length_ = 0;
  has_transfer_encoding_ = false;
  te_last_chunked_ = false;
  te_other_coding_ = false;
  te_chunked_count_ = 0;
  host_count_ = 0;
  conn_close_ = false;
  conn_keep_alive_ = false;
  conn_upgrade_ = false;
}

RequestParser::Status RequestParser::fail(ParseError error) {
  phase_ = Phase::kFailed;
  error_ = error;
  return Status::kError;
}

ParseError RequestParser::limit_hit(bool line_complete, size_t line_end, size_t avail) const {
  // A limit "fires at byte count t" if, once t bytes have arrived, the line (or the head) is
  // still unterminated. Of those that fire, the smallest t wins; on a tie the line limit does.
  bool start = phase_ == Phase::kStart;
  size_t line_t = line_start_ + (start ? limits_.max_request_line : limits_.max_header_line);
  size_t head_t = limits_.max_head_bytes;
  auto fires = [&](size_t t) { return line_complete ? line_end > t : avail >= t; };
  bool line_fires = fires(line_t);
  bool head_fires = fires(head_t);
  if (line_fires && (!head_fires || line_t <= head_t)) {
    return start ? ParseError::kUriTooLong : ParseError::kHeaderLineTooLong;
  }
  if (head_fires) {
    return ParseError::kHeadTooLarge;
  }
  return ParseError::kNone;
}

RequestParser::Status RequestParser::parse(std::string_view input, Request& out) {
  if (phase_ == Phase::kDone) {
    fill(input, out);
    return Status::kComplete;
  }
  if (phase_ == Phase::kFailed) {
    return Status::kError;
  }
  assert(input.size() >= scan_ && "input must only grow between calls");
  if (input.size() < scan_) {
    return fail(ParseError::kBadRequest);
  }
  for (;;) {
    const void* lf = std::memchr(input.data() + scan_, '\n', input.size() - scan_);
    if (lf == nullptr) {
      scan_ = input.size();
      ParseError limit = limit_hit(false, 0, input.size());
      return limit == ParseError::kNone ? Status::kNeedMore : fail(limit);
    }
    size_t lf_pos = static_cast<size_t>(static_cast<const char*>(lf) - input.data());
    size_t line_end = lf_pos + 1;
    if (ParseError limit = limit_hit(true, line_end, input.size()); limit != ParseError::kNone) {
      return fail(limit);
    }
    size_t content_end = lf_pos;
    if (content_end > line_start_ && input[content_end - 1] == '\r') {
      --content_end;
    } else if (!limits_.allow_bare_lf) {
      return fail(ParseError::kBadLineEnding);
    }
    if (std::memchr(input.data() + line_start_, '\r', content_end - line_start_) != nullptr) {
      return fail(ParseError::kBadLineEnding);
    }
    ParseError error = ParseError::kNone;
    if (content_end == line_start_) {
      if (phase_ == Phase::kHeaders) {
        head_size_ = line_end;
        if (error = on_head_end(); error != ParseError::kNone) {
          return fail(error);
        }
        phase_ = Phase::kDone;
        fill(input, out);
        return Status::kComplete;
      }
      // RFC 9112 2.2: empty lines before the request line are ignored (bounded by the head).
    } else if (phase_ == Phase::kStart) {
      error = on_request_line(input, line_start_, content_end);
      phase_ = Phase::kHeaders;
    } else {
      error = on_header_line(input, line_start_, content_end);
    }
    if (error != ParseError::kNone) {
      return fail(error);
    }
    line_start_ = scan_ = line_end;
  }
}

ParseError RequestParser::on_request_line(std::string_view input, size_t begin, size_t end) {
  std::string_view line = view(input, begin, end);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return ParseError::kBadRequest;
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return ParseError::kBadRequest;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view version = line.substr(sp2 + 1);
  if (!chars::all(method, chars::kTchar)) {
    return ParseError::kBadRequest;
  }
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return ParseError::kBadRequest;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return ParseError::kVersionNotSupported;
  }
  version_minor_ = static_cast<uint8_t>(version[7] - '0');

  method_text_ = {static_cast<uint32_t>(begin), static_cast<uint32_t>(sp1)};
  static constexpr std::pair<std::string_view, Method> kMethods[] = {
      {"GET", Method::kGet},    {"HEAD", Method::kHead},     {"POST", Method::kPost},
      {"PUT", Method::kPut},    {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kPatch}};
  method_ = Method::kOther;
  for (const auto& [text, id] : kMethods) {
    if (method == text) {  // methods are case-sensitive (RFC 9110 9.1)
      method_ = id;
      break;
    }
  }

  size_t t_begin = begin + sp1 + 1;
  size_t t_end = begin + sp2;
  std::string_view target = view(input, t_begin, t_end);
  if (!chars::all(target, chars::kTarget)) {
    return ParseError::kBadTarget;
  }
  target_ = {static_cast<uint32_t>(t_begin), static_cast<uint32_t>(target.size())};
  root_path_ = false;
  if (target.front() == '/') {  // origin-form
    size_t q = target.find('?');
    size_t p_end = q == std::string_view::npos ? t_end : t_begin + q;
    path_ = {static_cast<uint32_t>(t_begin), static_cast<uint32_t>(p_end - t_begin)};
    query_ = q == std::string_view::npos
                 ? Span{static_cast<uint32_t>(t_end), 0}
                 : Span{static_cast<uint32_t>(p_end + 1), static_cast<uint32_t>(t_end - p_end - 1)};
    return ParseError::kNone;
  }
  if (target == "*") {  // asterisk-form, OPTIONS only (RFC 9112 3.2.4)
    if (method_ != Method::kOptions) {
      return ParseError::kBadTarget;
    }
    path_ = target_;
    query_ = {static_cast<uint32_t>(t_end), 0};
    return ParseError::kNone;
  }
  return on_absolute_target(input, t_begin, t_end);
}

ParseError RequestParser::on_absolute_target(std::string_view input, size_t begin, size_t end) {
  // absolute-form: scheme "://" authority [path-abempty] ["?" query]. Authority-form (CONNECT)
  // and other shapes are not served here.
  std::string_view target = view(input, begin, end);
  size_t colon = target.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !((target[0] >= 'a' && target[0] <= 'z') || (target[0] >= 'A' && target[0] <= 'Z')) ||
      !chars::all(target.substr(0, colon), chars::kSchemeTail) ||
      target.substr(colon + 1, 2) != "//") {
    return ParseError::kBadTarget;
  }
  size_t auth_begin = colon + 3;
  size_t auth_end = target.find_first_of("/?", auth_begin);
  if (auth_end == std::string_view::npos) {
    auth_end = target.size();
  }
  if (auth_end == auth_begin) {
    return ParseError::kBadTarget;  // an http(s) URI needs a host
  }
  size_t q = target.find('?', auth_end);
  size_t p_end = q == std::string_view::npos ? target.size() : q;
  root_path_ = p_end == auth_end;
  path_ = {static_cast<uint32_t>(begin + auth_end), static_cast<uint32_t>(p_end - auth_end)};
  query_ = q == std::string_view::npos ? Span{static_cast<uint32_t>(end), 0}
                                       : Span{static_cast<uint32_t>(begin + q + 1),
                                              static_cast<uint32_t>(target.size() - q - 1)};
  return ParseError::kNone;
}

ParseError RequestParser::on_header_line(std::string_view input, size_t begin, size_t end) {
  std::string_view line = view(input, begin, end);
  if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete folding, or whitespace between the request line and the first field.
    return ParseError::kObsFold;
  }
  if (header_count_ == limits_.max_headers) {
    return ParseError::kTooManyHeaders;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return ParseError::kBadHeader;
  }
  std::string_view name = line.substr(0, colon);
  if (!chars::all(name, chars::kTchar)) {  // also rejects whitespace before ':' (RFC 9112 5.1)
    return ParseError::kBadHeader;
  }
  std::string_view value = chars::trim_ows(line.substr(colon + 1));
  if (!chars::all(value, chars::kFieldValue)) {
    return ParseError::kBadHeader;
  }
  names_[header_count_] = {static_cast<uint32_t>(begin), static_cast<uint32_t>(colon)};
  values_[header_count_] = {static_cast<uint32_t>(value.data() - input.data()),
                            static_cast<uint32_t>(value.size())};
  ++header_count_;

  switch (name.size()) {
    case 4:
      if (chars::iequals(name, "host")) {
        if (++host_count_ > 1 || !chars::all(value, chars::kHost)) {
          return ParseError::kBadHost;
        }
      }
      break;
    case 10:
      if (chars::iequals(name, "connection")) {
        on_connection(value);
      }
      break;
    case 14:
      if (chars::iequals(name, "content-length")) {
        // 1*DIGIT only; a repeated field must carry the same value (RFC 9110 8.6).
        if (value.empty()) {
          return ParseError::kBadContentLength;
        }
        uint64_t n = 0;
        for (char c : value) {
          if (c < '0' || c > '9') {
            return ParseError::kBadContentLength;
          }
          auto digit = static_cast<uint64_t>(c - '0');
          if (n > (UINT64_MAX - digit) / 10) {
            return ParseError::kBadContentLength;
          }
          n = n * 10 + digit;
        }
        if (has_content_length_ && n != content_length_) {
          return ParseError::kBadContentLength;
        }
        has_content_length_ = true;
        content_length_ = n;
      }
      break;
    case 17:
      if (chars::iequals(name, "transfer-encoding")) {
        return on_transfer_encoding(value);
      }
      break;
    default:
      break;
  }
  return ParseError::kNone;
}

ParseError RequestParser::on_transfer_encoding(std::string_view value) {
  has_transfer_encoding_ = true;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = chars::trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (item.empty()) {
      continue;  // empty list elements are legal (RFC 9110 5.6.1)
    }
    size_t semi = item.find(';');
    std::string_view coding = chars::trim_ows(item.substr(0, semi));
    if (coding.empty() || !chars::all(coding, chars::kTchar)) {
      return ParseError::kBadTransferEncoding;
    }
    if (chars::iequals(coding, "chunked")) {
      if (semi != std::string_view::npos) {
        return ParseError::kBadTransferEncoding;  // chunked takes no parameters
      }
      te_last_chunked_ = true;
      if (te_chunked_count_ < 2) {
        ++te_chunked_count_;
      }
    } else {
      te_last_chunked_ = false;
      te_other_coding_ = true;
    }
  }
  return ParseError::kNone;
}

void RequestParser::on_connection(std::string_view value) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = chars::trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (chars::iequals(item, "close")) {
      conn_close_ = true;
    } else if (chars::iequals(item, "keep-alive")) {
      conn_keep_alive_ = true;
    } else if (chars::iequals(item, "upgrade")) {
      conn_upgrade_ = true;
    }
  }
}

ParseError RequestParser::on_head_end() const {
  if (version_minor_ == 1 && host_count_ == 0) {
    return ParseError::kMissingHost;
  }
  if (has_transfer_encoding_) {
    if (has_content_length_) {
      return ParseError::kLengthConflict;  // RFC 9112 6.1: a smuggling attempt, reject
    }
    if (version_minor_ == 0) {
      return ParseError::kBadTransferEncoding;  // RFC 9112 6.1: framing is faulty
    }
    // chunked must be present exactly once and last (RFC 9112 6.3, 7).
    if (te_chunked_count_ != 1 || !te_last_chunked_) {
      return ParseError::kBadTransferEncoding;
    }
    if (te_other_coding_) {
      return ParseError::kUnsupportedTransferEncoding;
    }
  }
  if (has_content_length_ && content_length_ > limits_.max_body) {
    return ParseError::kBodyTooLarge;
  }
  return ParseError::kNone;
}

void RequestParser::fill(std::string_view input, Request& out) const {
  auto v = [&](Span s) { return input.substr(s.off, s.len); };
  out.method = method_;
  out.method_text = v(method_text_);
  out.target = v(target_);
  out.path = root_path_ ? std::string_view("/") : v(path_);
  out.query = v(query_);
  out.version_minor = version_minor_;
  out.header_count = header_count_;
  for (size_t i = 0; i < header_count_; ++i) {
    out.headers[i] = {v(names_[i]), v(values_[i])};
  }
  out.keep_alive = version_minor_ == 1 ? !conn_close_ : (conn_keep_alive_ && !conn_close_);
  out.has_content_length = has_content_length_;
  out.content_length = has_content_length_ ? content_length_ : 0;
  out.chunked = has_transfer_encoding_;
  out.connection_upgrade = conn_upgrade_;
  out.head_size = head_size_;
}

}  // namespace herald::http
