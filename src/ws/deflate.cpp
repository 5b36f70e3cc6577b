#include "ws/deflate.h"

#include "base/ascii.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace herald::ws {
namespace {

constexpr uint8_t kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
constexpr std::string_view kExtensionName = "permessage-deflate";
// zlib counts in uInt; feed and drain in pieces that always fit.
constexpr size_t kMaxZlibChunk = 1U << 30;

// RFC 7230 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 7692 window bits value: exactly "8".."15", no sign, no leading zero.
std::optional<uint8_t> parse_window_bits(std::string_view v) {
  if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) {
    return static_cast<uint8_t>(v[0] - '0');
  }
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
    return static_cast<uint8_t>(10 + (v[1] - '0'));
  }
  return std::nullopt;
}

uint8_t clamp_bits(uint8_t bits) {
  return std::clamp<uint8_t>(bits, 8, 15);
}

// One permessage-deflate offer being checked parameter by parameter.
struct Offer {
  bool is_deflate = false;
  bool acceptable = true;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  bool has_server_bits = false;
  bool has_client_bits = false;
  uint8_t server_bits = 15;
  std::optional<uint8_t> client_bits;  // value given with client_max_window_bits

  void add_param(std::string_view name, std::optional<std::string_view> value) {
    if (!is_deflate || !acceptable) {
      return;
    }
    if (ascii_iequals(name, "server_no_context_takeover")) {
      acceptable = !server_no_context_takeover && !value;
      server_no_context_takeover = true;
    } else if (ascii_iequals(name, "client_no_context_takeover")) {
      acceptable = !client_no_context_takeover && !value;
      client_no_context_takeover = true;
    } else if (ascii_iequals(name, "server_max_window_bits")) {
      auto bits = value ? parse_window_bits(*value) : std::nullopt;
      acceptable = !has_server_bits && bits.has_value();
      has_server_bits = true;
      server_bits = bits.value_or(15);
    } else if (ascii_iequals(name, "client_max_window_bits")) {
      acceptable = !has_client_bits;
      has_client_bits = true;
      if (value) {
        client_bits = parse_window_bits(*value);
        acceptable = acceptable && client_bits.has_value();
      }
    } else {
      acceptable = false;  // RFC 7692 5: unknown parameter declines the offer
    }
  }
};

// Cursor over a header value, following RFC 7230 list syntax with optional whitespace.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  void skip_ows() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void advance() { ++i_; }
  std::string_view token() {
    size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  // Reads a quoted-string (cursor on the opening quote) and unescapes it into out.
  bool quoted(std::string& out) {
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') {
        return true;
      }
      if (c == '\\') {
        if (i_ >= s_.size()) {
          return false;
        }
        c = s_[i_++];
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return false;
      }
      out.push_back(c);
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

void append_response(const DeflateParams& p, bool announce_server_bits, bool announce_client_bits,
                     std::string& out) {
  out.assign(kExtensionName);
  if (p.server_no_context_takeover) {
    out += "; server_no_context_takeover";
  }
  if (p.client_no_context_takeover) {
    out += "; client_no_context_takeover";
  }
  if (announce_server_bits) {
    out += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  }
  if (announce_client_bits) {
    out += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
  }
}

}  // namespace

std::optional<DeflateParams> negotiate_permessage_deflate(std::string_view offers,
                                                          const DeflateConfig& config,
                                                          std::string& response_value) {
  if (!config.enabled) {
    return std::nullopt;
  }
  std::optional<Offer> chosen;
  Scanner sc(offers);
  std::string unquoted;
  // extension-list = 1#( extension-token *( ";" extension-param ) ); empty elements allowed.
  while (true) {
    sc.skip_ows();
    if (sc.at_end()) {
      break;
    }
    if (sc.peek() == ',') {
      sc.advance();
      continue;
    }
    std::string_view name = sc.token();
    if (name.empty()) {
      return std::nullopt;
    }
    Offer offer;
    offer.is_deflate = ascii_iequals(name, kExtensionName);
    sc.skip_ows();
    while (!sc.at_end() && sc.peek() == ';') {
      sc.advance();
      sc.skip_ows();
      std::string_view pname = sc.token();
      if (pname.empty()) {
        return std::nullopt;
      }
      sc.skip_ows();
      std::optional<std::string_view> value;
      if (!sc.at_end() && sc.peek() == '=') {
        sc.advance();
        sc.skip_ows();
        if (!sc.at_end() && sc.peek() == '"') {
          unquoted.clear();
          // Our own parameters only take digits, so parse_window_bits() rejects any quoted
          // value that is not a token; other extensions' values are not our business.
          if (!sc.quoted(unquoted)) {
            return std::nullopt;
          }
          value = unquoted;
        } else {
          value = sc.token();
          if (value->empty()) {
            return std::nullopt;
          }
        }
        sc.skip_ows();
      }
      offer.add_param(pname, value);
    }
    if (!sc.at_end() && sc.peek() != ',') {
      return std::nullopt;
    }
    if (!chosen && offer.is_deflate && offer.acceptable) {
      chosen = offer;
    }
  }
  if (!chosen) {
    return std::nullopt;
  }

  DeflateParams p;
  // We compress every message from a fresh context anyway; saying so lets clients drop
  // their inflate window between messages.
  p.server_no_context_takeover = true;
  p.client_no_context_takeover = chosen->client_no_context_takeover;
  p.server_max_window_bits =
      std::min(chosen->server_bits, clamp_bits(config.server_max_window_bits));
  bool announce_client_bits = false;
  if (chosen->has_client_bits) {
    uint8_t offered = chosen->client_bits.value_or(15);
    p.client_max_window_bits = std::min(offered, clamp_bits(config.client_max_window_bits));
    announce_client_bits = p.client_max_window_bits < 15;
  }
  append_response(p, chosen->has_server_bits, announce_client_bits, response_value);
  return p;
}

// ---------------------------------------------------------------------------------------
// Inflater

struct Inflater::Zlib {
  z_stream s{};
  bool ok = false;
};

Inflater::Inflater(const DeflateParams& params, size_t max_output)
    : z_(std::make_unique<Zlib>()),
      max_output_(max_output),
      reset_each_message_(params.client_no_context_takeover) {
  // A larger window than the sender's is always safe; 9 sidesteps zlib's 8-bit quirks.
  int bits = std::max<int>(9, clamp_bits(params.client_max_window_bits));
  z_->ok = inflateInit2(&z_->s, -bits) == Z_OK;
}

Inflater::~Inflater() {
  if (z_->ok) {
    inflateEnd(&z_->s);
  }
}

bool Inflater::ok() const {
  return z_->ok;
}

void Inflater::reset_after_stream_end() {
  // The client ended its DEFLATE stream (BFINAL). With context takeover its next message may
  // still refer to this one, so carry the window over into the fresh stream.
  z_stream& s = z_->s;
  if (reset_each_message_) {
    inflateReset(&s);
    return;
  }
  std::string dict(32768, '\0');
  uInt len = 0;
  inflateGetDictionary(&s, reinterpret_cast<Bytef*>(dict.data()), &len);
  inflateReset(&s);
  inflateSetDictionary(&s, reinterpret_cast<const Bytef*>(dict.data()), len);
}

Inflater::Status Inflater::run(const uint8_t* in, size_t size, std::string& out, size_t start,
                               size_t& produced, bool& ended) {
  z_stream& s = z_->s;
  for (;;) {
    if (s.avail_in == 0 && size > 0) {
      size_t n = std::min(size, kMaxZlibChunk);
      s.next_in = const_cast<Bytef*>(in);  // zlib's API is not const-correct
      s.avail_in = static_cast<uInt>(n);
      in += n;
      size -= n;
    }
    size_t room = out.size() - (start + produced);
    if (room == 0) {
      // +1 so that passing the cap is seen rather than silently stopping at it.
      size_t allowed = max_output_ + 1 - produced;
      size_t grow = std::max<size_t>({4096, produced, static_cast<size_t>(s.avail_in) * 2});
      grow = std::min({grow, allowed, kMaxZlibChunk});
      out.resize(start + produced + grow);
      room = grow;
    }
    room = std::min(room, kMaxZlibChunk);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
    s.avail_out = static_cast<uInt>(room);
    uInt in_before = s.avail_in;
    int rc = ::inflate(&s, Z_SYNC_FLUSH);
    produced += room - s.avail_out;
    if (produced > max_output_) {
      return Status::kTooBig;
    }
    if (rc == Z_STREAM_END) {
      ended = true;
      return Status::kOk;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress was possible: either every byte is used up (done) or zlib is stuck.
      if (s.avail_in == 0 && size == 0) {
        return Status::kOk;
      }
      if (s.avail_in == in_before && s.avail_out == room) {
        return Status::kCorrupt;
      }
      continue;
    }
    if (rc != Z_OK) {
      return Status::kCorrupt;
    }
    if (s.avail_in == 0 && size == 0 && s.avail_out != 0) {
      return Status::kOk;
    }
  }
}

Inflater::Status Inflater::inflate_message(std::string_view compressed, std::string& out) {
  if (!z_->ok) {
    return Status::kCorrupt;
  }
  if (compressed.empty()) {
    // Some senders mark an empty message as compressed; the tail alone is not a stream.
    return Status::kOk;
  }
  z_stream& s = z_->s;
  const size_t start = out.size();
  size_t produced = 0;
  bool ended = false;
  Status st = run(reinterpret_cast<const uint8_t*>(compressed.data()), compressed.size(), out,
                  start, produced, ended);
  // Bytes after a final block are ignored: RFC 7692 7.2.3.4's own example has one.
  if (st == Status::kOk && !ended) {
    st = run(kTail, sizeof kTail, out, start, produced, ended);
  }
  s.avail_in = 0;
  if (st != Status::kOk) {
    inflateReset(&s);
    out.resize(start);
    return st;
  }
  out.resize(start + produced);
  if (ended) {
    reset_after_stream_end();
  } else if (reset_each_message_) {
    inflateReset(&s);
  }
  return Status::kOk;
}

// ---------------------------------------------------------------------------------------
// Deflater

struct Deflater::Zlib {
  z_stream s{};
  bool ok = false;
};

Deflater::Deflater(int window_bits, int level, int mem_level)
    : z_(std::make_unique<Zlib>()), window_bits_(std::clamp(window_bits, 8, 15)) {
  // Raw deflate rejects 8; 9 is equivalent for the peer (see the header).
  int bits = std::max(9, window_bits_);
  z_->ok = deflateInit2(&z_->s, std::clamp(level, 0, 9), Z_DEFLATED, -bits,
                        std::clamp(mem_level, 1, 9), Z_DEFAULT_STRATEGY) == Z_OK;
}

Deflater::~Deflater() {
  if (z_->ok) {
    deflateEnd(&z_->s);
  }
}

bool Deflater::ok() const {
  return z_->ok;
}

void Deflater::deflate_message(std::string_view in, std::string& out) {
  z_stream& s = z_->s;
  if (!z_->ok) {
    // Cannot happen after a successful init; emit a valid empty stored block instead.
    out.push_back('\0');
    return;
  }
  const size_t start = out.size();
  size_t produced = 0;
  const auto* next = reinterpret_cast<const uint8_t*>(in.data());
  size_t left = in.size();
  // Sync flush adds a stored block (5 bytes) per call plus a little slack.
  out.resize(start + deflateBound(&s, static_cast<uLong>(std::min(left, kMaxZlibChunk))) + 16);
  while (true) {
    if (s.avail_in == 0 && left > 0) {
      size_t n = std::min(left, kMaxZlibChunk);
      s.next_in = const_cast<Bytef*>(next);
      s.avail_in = static_cast<uInt>(n);
      next += n;
      left -= n;
    }
    size_t room = out.size() - start - produced;
    if (room < 64) {
      out.resize(out.size() + std::max<size_t>(4096, out.size() - start));
      room = out.size() - start - produced;
    }
    room = std::min(room, kMaxZlibChunk);
    s.next_out = reinterpret_cast<Bytef*>(out.data() + start + produced);
    s.avail_out = static_cast<uInt>(room);
    ::deflate(&s, Z_SYNC_FLUSH);
    produced += room - s.avail_out;
    // Done once all input is taken and zlib did not fill the buffer (nothing pending).
    if (s.avail_in == 0 && left == 0 && s.avail_out != 0) {
      break;
    }
  }
  // A sync flush ends with an empty stored block, 00 00 ff ff, which RFC 7692 7.2.1 drops.
  if (produced >= 4 &&
      std::equal(kTail, kTail + 4,
                 reinterpret_cast<const uint8_t*>(out.data()) + start + produced - 4)) {
    produced -= 4;
  }
  out.resize(start + produced);
  deflateReset(&s);
}

}  // namespace herald::ws
