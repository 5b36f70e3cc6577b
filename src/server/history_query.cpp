#include "server/history_query.h"

namespace herald::server {

broker::HistoryQuery history_query(const std::optional<protocol::StreamPosition>& since,
                                std::optional<uint32_t> limit, bool reverse) {
  broker::HistoryQuery q;
  q.reverse = reverse;
  if (since) {
    // Each direction reads only its own bound; the other keeps its "whole history" default.
    if (reverse) {
      q.before = since->offset;
    } else {
      q.after = since->offset;
    }
  }
  if (limit) {
    q.limit = *limit;
  }
  return q;
}

std::optional<protocol::ErrorCode> history_error(
    const std::optional<protocol::StreamPosition>& since, const Result<broker::HistoryResult>& r) {
  if (!r.ok()) {
    return protocol::ErrorCode::kUnavailable;
  }
  const broker::StreamTop& top = r.value().top;
  if (since && (since->epoch != top.epoch || since->offset + 1 < top.first_offset)) {
    return protocol::ErrorCode::kUnrecoverablePosition;
  }
  return std::nullopt;
}

}  // namespace herald::server
