#include "broker/redis_metrics.h"

namespace herald::broker {

std::string_view to_string(RedisRole role) {
  switch (role) {
    case RedisRole::kCommand:
      return "command";
    case RedisRole::kSubscriber:
      return "subscriber";
  }
  return "unknown";
}

std::string_view to_string(RedisFailure failure) {
  switch (failure) {
    case RedisFailure::kNotConnected:
      return "not_connected";
    case RedisFailure::kTimeout:
      return "timeout";
    case RedisFailure::kConnectionLost:
      return "connection_lost";
    case RedisFailure::kErrorReply:
      return "error_reply";
    case RedisFailure::kRedirected:
      return "redirected";
    case RedisFailure::kNoScript:
      return "noscript";
  }
  return "unknown";
}

RedisMetrics& RedisMetrics::discarded() {
  static RedisMetrics sink;
  return sink;
}

}  // namespace herald::broker
