#include "http/response.h"

#include <charconv>

namespace herald::http {
namespace {

void append_number(std::string& out, uint64_t n, int base = 10) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n, base);
  (void)ec;  // 24 bytes always hold a uint64_t
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_status_line(std::string& out, int status) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
}

void append_content_type(std::string& out, std::string_view content_type) {
  if (!content_type.empty()) {
    out.append("Content-Type: ");
    out.append(content_type);
    out.append("\r\n");
  }
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void append_response_head(std::string& out, int status, std::string_view content_type,
                          size_t content_length, bool keep_alive, std::string_view extra_headers) {
  append_status_line(out, status);
  append_content_type(out, content_type);
  // 304 too: its Content-Length would have to be that of the 200 it stands for, and it is
  // optional (RFC 9110 8.6), so none is written rather than a wrong one.
  if (status >= 200 && status != 204 && status != 304) {
    out.append("Content-Length: ");
    append_number(out, content_length);
    out.append("\r\n");
  }
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  }
  out.append(extra_headers);
  out.append("\r\n");
}

void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive, std::string_view extra_headers) {
  append_response_head(out, status, content_type, body.size(), keep_alive, extra_headers);
  out.append(body);
}

void append_error_response(std::string& out, ParseError error) {
  // describe() texts are fixed ASCII without quotes or backslashes, so no JSON escaping needed.
  std::string_view text = describe(error);
  int status = status_for(error);
  char body[128];
  size_t n = 0;
  auto put = [&](std::string_view s) {
    for (char c : s) {
      if (n < sizeof(body)) {
        body[n++] = c;
      }
    }
  };
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), status);
  (void)ec;
  put("{\"error\":\"");
  put(text);
  put("\",\"status\":");
  put(std::string_view(digits, static_cast<size_t>(end - digits)));
  put("}");
  append_response(out, status, "application/json", std::string_view(body, n), false);
}

void append_stream_head(std::string& out, int status, std::string_view content_type, bool chunked,
                        std::string_view extra_headers) {
  append_status_line(out, status);
  append_content_type(out, content_type);
  out.append(chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
  out.append(extra_headers);
  out.append("\r\n");
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) {
    return;
  }
  append_number(out, data.size(), 16);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

void append_last_chunk(std::string& out) {
  out.append("0\r\n\r\n");
}

}  // namespace herald::http
