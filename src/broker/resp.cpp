#include "broker/resp.h"

#include <limits>

namespace herald::broker::resp {
namespace {

// Strict: an optional '-' then 1-19 digits, within int64.
bool parse_int(std::string_view s, int64_t& value) {
  bool negative = !s.empty() && s.front() == '-';
  if (negative) {
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 19) {
    return false;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (v > kMax + (negative ? 1 : 0)) {
    return false;
  }
  value = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

void append_bulk(std::string& out, std::string_view arg) {
  out += '$';
  out += std::to_string(arg.size());
  out += "\r\n";
  out += arg;
  out += "\r\n";
}

}  // namespace

const char* describe(RespError error) {
  switch (error) {
    case RespError::kNone:
      return "no error";
    case RespError::kBadType:
      return "unknown reply type";
    case RespError::kBadLine:
      return "bad line ending";
    case RespError::kBadInteger:
      return "bad integer";
    case RespError::kBadLength:
      return "bad length";
    case RespError::kTooLarge:
      return "reply too large";
    case RespError::kTooDeep:
      return "reply nested too deep";
  }
  return "unknown";
}

std::string Reply::debug_string() const {
  switch (type) {
    case Type::kSimpleString:
      return "+" + str;
    case Type::kError:
      return "-" + str;
    case Type::kInteger:
      return ":" + std::to_string(integer);
    case Type::kBulkString:
      return "\"" + str + "\"";
    case Type::kNull:
      return "nil";
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        out += (i == 0 ? "" : ", ") + elements[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

bool Parser::idle() const {
  return error_ == RespError::kNone && state_ == State::kLine && line_.empty() && !saw_cr_ &&
         stack_.empty();
}

void Parser::reset() {
  state_ = State::kLine;
  error_ = RespError::kNone;
  line_.clear();
  saw_cr_ = false;
  bulk_ = Reply{};
  bulk_left_ = 0;
  bulk_end_ = 0;
  stack_.clear();
}

// A value is done: it goes into the innermost open array, or out if it is a whole reply. Arrays
// that this fills are closed in turn.
void Parser::complete(Reply value, std::vector<Reply>& out) {
  while (true) {
    if (stack_.empty()) {
      out.push_back(std::move(value));
      return;
    }
    Open& top = stack_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.remaining > 0) {
      return;
    }
    value = std::move(top.array);
    stack_.pop_back();
  }
}

RespError Parser::on_line(std::vector<Reply>& out) {
  if (line_.empty()) {
    return RespError::kBadType;
  }
  char kind = line_[0];
  std::string_view rest = std::string_view(line_).substr(1);
  Reply r;
  switch (kind) {
    case '+':
    case '-':
      r.type = kind == '+' ? Type::kSimpleString : Type::kError;
      r.str.assign(rest);
      complete(std::move(r), out);
      return RespError::kNone;
    case ':':
      r.type = Type::kInteger;
      if (!parse_int(rest, r.integer)) {
        return RespError::kBadInteger;
      }
      complete(std::move(r), out);
      return RespError::kNone;
    case '$':
    case '*': {
      int64_t n = 0;
      if (!parse_int(rest, n)) {
        return RespError::kBadInteger;
      }
      if (n < -1) {
        return RespError::kBadLength;
      }
      if (n == -1) {
        complete(Reply{}, out);  // kNull
        return RespError::kNone;
      }
      auto size = static_cast<uint64_t>(n);
      if (kind == '$') {
        if (size > limits_.max_bulk) {
          return RespError::kTooLarge;
        }
        bulk_ = Reply{};
        bulk_.type = Type::kBulkString;
        bulk_.str.reserve(static_cast<size_t>(size));
        bulk_left_ = static_cast<size_t>(size);
        bulk_end_ = 0;
        state_ = State::kBulk;
        return RespError::kNone;
      }
      if (size > limits_.max_array) {
        return RespError::kTooLarge;
      }
      r.type = Type::kArray;
      if (stack_.size() >= limits_.max_depth) {
        return RespError::kTooDeep;  // an empty array counts too: the limit is on what comes out
      }
      if (size == 0) {
        complete(std::move(r), out);
        return RespError::kNone;
      }
      // Elements arrive one by one: reserve a bounded amount, not what the length claims.
      r.elements.reserve(static_cast<size_t>(std::min<uint64_t>(size, 1024)));
      stack_.push_back(Open{std::move(r), static_cast<size_t>(size)});
      return RespError::kNone;
    }
    default:
      return RespError::kBadType;
  }
}

RespError Parser::feed(std::string_view bytes, std::vector<Reply>& out) {
  size_t i = 0;
  while (error_ == RespError::kNone && i < bytes.size()) {
    switch (state_) {
      case State::kLine: {
        char c = bytes[i++];
        if (saw_cr_) {
          if (c != '\n') {
            error_ = RespError::kBadLine;
            break;
          }
          saw_cr_ = false;
          error_ = on_line(out);
          line_.clear();
          break;
        }
        if (c == '\r') {
          saw_cr_ = true;
        } else if (c == '\n') {
          error_ = RespError::kBadLine;
        } else if (line_.size() >= limits_.max_line) {
          error_ = RespError::kTooLarge;
        } else {
          // Copy the rest of the line at once when it is all here.
          size_t end = bytes.find_first_of("\r\n", i);
          size_t stop = end == std::string_view::npos ? bytes.size() : end;
          line_ += c;
          size_t take = std::min(stop - i, limits_.max_line - line_.size() + 1);
          line_.append(bytes.substr(i, take));
          i += take;
          if (line_.size() > limits_.max_line) {
            error_ = RespError::kTooLarge;
          }
        }
        break;
      }
      case State::kBulk: {
        size_t take = std::min(bulk_left_, bytes.size() - i);
        bulk_.str.append(bytes.substr(i, take));
        i += take;
        bulk_left_ -= take;
        if (bulk_left_ == 0) {
          state_ = State::kBulkEnd;
        }
        break;
      }
      case State::kBulkEnd: {
        char c = bytes[i++];
        if (c != (bulk_end_ == 0 ? '\r' : '\n')) {
          error_ = RespError::kBadLine;
          break;
        }
        if (++bulk_end_ == 2) {
          state_ = State::kLine;
          complete(std::move(bulk_), out);
          bulk_ = Reply{};
        }
        break;
      }
    }
  }
  return error_;
}

void append_command(std::string& out, const std::vector<std::string_view>& args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view arg : args) {
    append_bulk(out, arg);
  }
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_command(out, std::vector<std::string_view>(args));
}

}  // namespace herald::broker::resp
