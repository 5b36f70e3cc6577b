#pragma once
// Response formatting: appends HTTP/1.1 response heads and bodies to an output buffer. Pure
// functions with no state; callable from any thread. The caller owns `out` and reuses it, so a
// response costs no allocation once the buffer has grown.

#include <cstddef>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace herald::http {

// Reason phrase of a status code ("Not Found"); "Unknown" for codes not listed.
std::string_view reason_phrase(int status);

// Status line + Content-Type (omitted when empty) + Content-Length + "Connection: close" when
// !keep_alive + extra_headers ("Name: value\r\n" lines, preformatted) + the blank line. For
// 1xx, 204 and 304 no Content-Length is written (RFC 9110 8.6). Use this directly for HEAD
// replies.
void append_response_head(std::string& out, int status, std::string_view content_type,
                          size_t content_length, bool keep_alive,
                          std::string_view extra_headers = {});

// A complete response: append_response_head() followed by `body`.
void append_response(std::string& out, int status, std::string_view content_type,
                     std::string_view body, bool keep_alive, std::string_view extra_headers = {});

// Error reply for a rejected request: JSON body {"error":"<describe()>","status":N} and
// "Connection: close", since the byte stream cannot be trusted after a parse error.
void append_error_response(std::string& out, ParseError error);

// Starts a streaming response (e.g. SSE) with no Content-Length. chunked: Transfer-Encoding
// chunked, the connection may be kept alive after append_last_chunk(); otherwise (an HTTP/1.0
// peer) the body ends when the connection closes, so "Connection: close" is sent.
void append_stream_head(std::string& out, int status, std::string_view content_type, bool chunked,
                        std::string_view extra_headers = {});

// One chunk of a chunked body: hex size, CRLF, data, CRLF. Empty `data` appends nothing,
// because a zero-size chunk would end the body; use append_last_chunk() for that.
void append_chunk(std::string& out, std::string_view data);
// The terminating zero-size chunk and empty trailer section.
void append_last_chunk(std::string& out);

}  // namespace herald::http
