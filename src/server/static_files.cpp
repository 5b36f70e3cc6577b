#include "server/static_files.h"

#include <algorithm>
#include <cassert>

#include "base/ascii.h"
#include "transport/http_session.h"

namespace herald::server {
namespace {

// Pages may load scripts, styles and images from this origin only, and talk to this origin only
// (fetch, WebSocket: CSP3 lets 'self' match ws:/wss: of the same host). Nothing inline, nothing
// from a CDN; no framing (clickjacking), no <base> tricks.
constexpr std::string_view kPageSecurity =
    "Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"
    "Referrer-Policy: no-referrer\r\n";

bool is_html(std::string_view content_type) {
  return content_type.starts_with("text/html");
}

}  // namespace

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim_ows(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item == "*") {
      return true;
    }
    if (item.starts_with("W/")) {
      item.remove_prefix(2);
    }
    if (item == etag) {
      return true;
    }
  }
  return false;
}

StaticFiles::StaticFiles(std::span<const EmbeddedFile> files) {
  files_.reserve(files.size());
  for (const EmbeddedFile& f : files) {
    File file;
    file.path = f.path;
    file.content_type = f.content_type;
    file.etag = f.etag;
    file.body = std::string_view(reinterpret_cast<const char*>(f.data), f.size);
    file.headers = "ETag: " + std::string(file.etag) +
                   "\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n";
    if (is_html(file.content_type)) {
      file.headers += kPageSecurity;
    }
    files_.push_back(std::move(file));
  }
  std::sort(files_.begin(), files_.end(),
            [](const File& a, const File& b) { return a.path < b.path; });
  // Two files at one path would make one of them unreachable: a mistake in the build's list.
  assert(std::adjacent_find(files_.begin(), files_.end(), [](const File& a, const File& b) {
           return a.path == b.path;
         }) == files_.end());
}

const StaticFiles::File* StaticFiles::find(std::string_view path) const {
  auto it = std::lower_bound(files_.begin(), files_.end(), path,
                             [](const File& f, std::string_view p) { return f.path < p; });
  return it != files_.end() && it->path == path ? &*it : nullptr;
}

StaticFiles::Answer StaticFiles::decide(const http::Request& req) const {
  Answer a;
  a.file = find(req.path);
  if (a.file == nullptr) {
    return a;  // 404
  }
  if (req.method != http::Method::kGet && req.method != http::Method::kHead) {
    a.status = 405;
    return a;
  }
  std::string_view inm = req.header("If-None-Match");
  if (!inm.empty() && etag_matches(inm, a.file->etag)) {
    a.status = 304;
    return a;
  }
  a.status = 200;
  a.send_body = req.method == http::Method::kGet;
  return a;
}

bool StaticFiles::serve(transport::HttpSession& http, const http::Request& req) const {
  Answer a = decide(req);
  bool keep = req.keep_alive;
  switch (a.status) {
    case 404:
      return false;
    case 405:
      http.respond(405, "application/json", R"({"error":"method not allowed","status":405})", keep,
                   "Allow: GET, HEAD\r\n");
      return true;
    case 304:
      http.respond_head(304, {}, 0, keep, a.file->headers);
      return true;
    default:
      break;
  }
  if (a.send_body) {
    http.respond(200, a.file->content_type, a.file->body, keep, a.file->headers);
  } else {
    http.respond_head(200, a.file->content_type, a.file->body.size(), keep, a.file->headers);
  }
  return true;
}

}  // namespace herald::server
