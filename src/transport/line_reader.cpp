#include "transport/line_reader.h"

namespace herald::transport {

std::string_view LineReader::describe(Error error) {
  switch (error) {
    case Error::kNone:
      return "no error";
    case Error::kTooLong:
      return "line over the maximum message size";
    case Error::kInvalidUtf8:
      return "line is not valid UTF-8";
  }
  return "unknown error";
}

}  // namespace herald::transport
