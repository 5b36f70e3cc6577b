#pragma once
// RESP2, the Redis wire protocol: an incremental reply parser and the command encoder.
// Sans-I/O like Herald's other parsers: the parser takes bytes in pieces of any size (one byte at
// a time gives the same replies as the whole input) and never touches a socket, so it is unit
// tested byte by byte and fuzzed (tests/fuzz/fuzz_broker_resp.cpp). Bytes from the network never
// throw: a malformed reply is a RespError, after which the connection must be dropped (RESP has no
// way to find the next reply boundary). Limits bound what one reply may make us allocate.
// Only RESP2 (we never send HELLO 3): simple strings, errors, integers, bulk strings, arrays, and
// the null bulk string / null array, both read as kNull.
// Thread: a parser belongs to one connection, on its loop.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::broker::resp {

enum class Type : uint8_t {
  kSimpleString,  // +OK
  kError,         // -ERR message (a reply, not a parse error: the command failed)
  kInteger,       // :42
  kBulkString,    // $3 abc
  kNull,          // $-1 or *-1
  kArray,         // *2 ...
};

struct Reply {
  Type type = Type::kNull;
  int64_t integer = 0;          // kInteger
  std::string str;              // kSimpleString, kError, kBulkString
  std::vector<Reply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_string() const { return type == Type::kSimpleString || type == Type::kBulkString; }
  bool is_array() const { return type == Type::kArray; }
  // For tests and logs: the reply as one line, e.g. [bulk "a", int 3, nil].
  std::string debug_string() const;
};

enum class RespError : uint8_t {
  kNone = 0,
  kBadType,     // the first byte of a reply is not one of + - : $ *
  kBadLine,     // CR not followed by LF, or LF without CR, or a bulk string not ended by CRLF
  kBadInteger,  // not an optional '-' and 1-19 digits, or outside int64
  kBadLength,   // a bulk or array length below -1
  kTooLarge,    // a line, bulk string or array past its limit
  kTooDeep,     // arrays nested past the limit
};
const char* describe(RespError error);

struct Limits {
  size_t max_line = 64 << 10;  // a simple string, error or length line
  size_t max_bulk = 64 << 20;  // one bulk string (our largest: a 64 KiB publication)
  size_t max_array = 1 << 20;  // elements of one array
  size_t max_depth = 16;       // nesting (our deepest reply is 4 levels)
};

class Parser {
 public:
  explicit Parser(Limits limits = {}) : limits_(limits) {}

  // Consumes all of `bytes`; appends each reply it completes to `out`, in order. After an error,
  // every later call returns it again (the stream cannot be resynchronized).
  RespError feed(std::string_view bytes, std::vector<Reply>& out);
  // True when no reply is partly parsed (between replies).
  bool idle() const;
  void reset();

 private:
  enum class State : uint8_t { kLine, kBulk, kBulkEnd };
  struct Open {
    Reply array;
    size_t remaining;
  };

  RespError on_line(std::vector<Reply>& out);
  void complete(Reply value, std::vector<Reply>& out);

  Limits limits_;
  State state_ = State::kLine;
  RespError error_ = RespError::kNone;
  std::string line_;         // the current header line, without CRLF
  bool saw_cr_ = false;      // the last byte of line_'s input was CR
  Reply bulk_;               // the bulk string being read
  size_t bulk_left_ = 0;     // its bytes still to come
  size_t bulk_end_ = 0;      // CRLF bytes after it already seen (0..2)
  std::vector<Open> stack_;  // arrays being filled, outermost first
};

// Appends one command in the form Redis reads (an array of bulk strings).
void append_command(std::string& out, const std::vector<std::string_view>& args);
void append_command(std::string& out, std::initializer_list<std::string_view> args);

}  // namespace herald::broker::resp
