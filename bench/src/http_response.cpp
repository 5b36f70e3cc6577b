#include "http_response.h"

#include "base/ascii.h"

namespace herald::bench {

std::string_view to_string(HttpError error) {
  switch (error) {
    case HttpError::kNone:
      return "ok";
    case HttpError::kHeadTooLarge:
      return "response head too large";
    case HttpError::kBadStatusLine:
      return "malformed status line";
    case HttpError::kBadHeader:
      return "malformed header line";
    case HttpError::kNoLength:
      return "response without Content-Length";
    case HttpError::kBadLength:
      return "invalid Content-Length";
    case HttpError::kBodyTooLarge:
      return "response body too large";
    case HttpError::kUnsupportedCoding:
      return "Transfer-Encoding is not supported";
  }
  return "?";
}

namespace {

// Finds "\r\n\r\n"; npos when absent.
size_t find_head_end(std::string_view in) {
  size_t limit = in.size() < kMaxResponseHead ? in.size() : kMaxResponseHead;
  for (size_t i = 3; i < limit; ++i) {
    if (in[i] == '\n' && in[i - 1] == '\r' && in[i - 2] == '\n' && in[i - 3] == '\r') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

bool parse_status_line(std::string_view line, int* status) {
  // "HTTP/1.1 200 OK": the reason may be empty, even without the space before it.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ') {
    return false;
  }
  int s = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return false;
    }
    s = s * 10 + (line[i] - '0');
  }
  if (s < 100 || (line.size() > 12 && line[12] != ' ')) {
    return false;
  }
  *status = s;
  return true;
}

bool parse_length(std::string_view v, size_t* out) {
  if (v.empty() || v.size() > 19) {
    return false;
  }
  size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace

size_t parse_http_head(std::string_view in, HttpHead* out, HttpError* error) {
  *error = HttpError::kNone;
  size_t head_end = find_head_end(in);
  if (head_end == std::string_view::npos) {
    if (in.size() >= kMaxResponseHead) {
      *error = HttpError::kHeadTooLarge;
    }
    return 0;
  }
  std::string_view head = in.substr(0, head_end - 2);  // the last header's CRLF stays
  size_t eol = head.find("\r\n");
  HttpHead h;
  if (!parse_status_line(head.substr(0, eol), &h.status)) {
    *error = HttpError::kBadStatusLine;
    return 0;
  }
  h.headers = head.substr(eol + 2);
  std::string_view rest = h.headers;
  while (!rest.empty()) {
    size_t next = rest.find("\r\n");  // every line of headers ends in CRLF
    std::string_view line = rest.substr(0, next);
    rest.remove_prefix(next + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = HttpError::kBadHeader;
      return 0;
    }
    for (char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        *error = HttpError::kBadHeader;
        return 0;
      }
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (ascii_iequals(name, "content-length")) {
      size_t n = 0;
      if (!parse_length(value, &n) || (h.has_length && n != h.length)) {
        *error = HttpError::kBadLength;
        return 0;
      }
      h.has_length = true;
      h.length = n;
    } else if (ascii_iequals(name, "transfer-encoding")) {
      *error = HttpError::kUnsupportedCoding;
      return 0;
    } else if (ascii_iequals(name, "connection") && ascii_iequals(value, "close")) {
      h.close = true;
    }
  }
  *out = h;
  return head_end;
}

std::string_view find_header(std::string_view headers, std::string_view name) {
  while (!headers.empty()) {
    size_t next = headers.find("\r\n");
    std::string_view line = headers.substr(0, next);
    headers = next == std::string_view::npos ? std::string_view() : headers.substr(next + 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && ascii_iequals(line.substr(0, colon), name)) {
      return trim_ows(line.substr(colon + 1));
    }
  }
  return {};
}

size_t parse_http_response(std::string_view in, HttpResponse* out, HttpError* error) {
  HttpHead h;
  size_t head_end = parse_http_head(in, &h, error);
  if (head_end == 0) {
    return 0;
  }
  size_t length = h.length;
  bool bodiless = h.status < 200 || h.status == 204 || h.status == 304;
  if (bodiless) {
    length = 0;
  } else if (!h.has_length) {
    *error = HttpError::kNoLength;
    return 0;
  }
  if (length > kMaxResponseBody) {
    *error = HttpError::kBodyTooLarge;
    return 0;
  }
  if (in.size() - head_end < length) {
    return 0;
  }
  out->status = h.status;
  out->headers = h.headers;
  out->close = h.close;
  out->body = in.substr(head_end, length);
  return head_end + length;
}

}  // namespace herald::bench
