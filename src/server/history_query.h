#pragma once
// The `history` command's meaning (docs/PROTOCOL.md, "### history"), in one place for both of its
// doors: the WebSocket command (protocol_handler.cpp) and the server API (api_commands.cpp).
// history_query() turns the params into the broker's HistoryQuery; history_error() decides which
// error, if any, the broker's answer becomes. Thread: any (no state).

#include <cstdint>
#include <optional>

#include "herald/result.h"
#include "broker/broker.h"
#include "protocol/command.h"
#include "protocol/errors.h"

namespace herald::server {

// since: forward, the publications after since.offset; reverse, those before it (absent: from
// the oldest kept, or the newest). limit: at most this many (absent: all; 0: the position only).
broker::HistoryQuery history_query(const std::optional<protocol::StreamPosition>& since,
                                std::optional<uint32_t> limit, bool reverse);

// nullopt when r is the answer to give. Otherwise the error to answer: kUnavailable (temporary)
// when the broker failed; kUnrecoverablePosition when `since` is of another epoch or older than
// what history keeps (since.offset + 1 < first kept), the same check in both directions.
std::optional<protocol::ErrorCode> history_error(
    const std::optional<protocol::StreamPosition>& since, const Result<broker::HistoryResult>& r);

}  // namespace herald::server
