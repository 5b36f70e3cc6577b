#pragma once
// StaticFiles: the web pages the binary serves (the chat room at `/`, the dashboard at
// `/dashboard`, their assets and the JavaScript SDK under `/sdk/`), embedded at build time by
// cmake/embed_files.cmake from web/ and clients/js/src/. Requests are matched by exact path
// against that fixed table: nothing is read from the filesystem, so no request can reach a file
// that is not in it (`..`, `%2e`, `//` are just paths that are not found).
//
// Each file carries its Content-Type and an ETag (a hash of its bytes, computed at build time);
// answers revalidate (`Cache-Control: no-cache`) so a browser never runs an old page against a
// new server, and a matching If-None-Match costs a 304 with no body. HTML pages also get a
// Content-Security-Policy that allows only this origin (no external scripts, styles or fonts).
//
// Built once at start; immutable afterwards and read by every loop. Thread: any.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace herald::transport {
class HttpSession;
}

namespace herald::server {

// One embedded file, as the generated table holds it.
struct EmbeddedFile {
  const char* path;          // the URL path it is served at, e.g. "/assets/chat.js"
  const char* content_type;  // e.g. "text/javascript; charset=utf-8"
  const char* etag;          // a quoted strong validator, e.g. "\"3f9a...\""
  const unsigned char* data;
  size_t size;
};

// The table generated at build time (web_files.cpp in the build directory).
std::span<const EmbeddedFile> embedded_files();

// Whether an If-None-Match header value matches etag: `*`, or a comma-separated list of entity
// tags compared weakly (RFC 9110 13.1.2: a `W/` prefix is ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

class StaticFiles {
 public:
  struct File {
    std::string_view path;
    std::string_view content_type;
    std::string_view etag;
    std::string_view body;
    std::string headers;  // ETag, Cache-Control and security headers, preformatted
  };

  // What to send for one request.
  struct Answer {
    int status = 404;            // 200, 304, 404 or 405
    const File* file = nullptr;  // the file (200 and 304)
    bool send_body = false;      // false for HEAD and 304
  };

  // The embedded pages.
  StaticFiles() : StaticFiles(embedded_files()) {}
  // Any table (tests).
  explicit StaticFiles(std::span<const EmbeddedFile> files);

  // The file served at path, or nullptr.
  const File* find(std::string_view path) const;
  // The answer to a request (method, path, If-None-Match), without any I/O.
  Answer decide(const http::Request& req) const;
  // Answers req on http when its path is one of the files (any method: 405 for those other than
  // GET and HEAD) and returns true; returns false, answering nothing, otherwise.
  bool serve(transport::HttpSession& http, const http::Request& req) const;

  size_t size() const { return files_.size(); }

 private:
  std::vector<File> files_;  // sorted by path
};

}  // namespace herald::server
