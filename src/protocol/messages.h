#pragma once
// Encoders for everything the server sends (docs/PROTOCOL.md): replies, errors, publications,
// pushes and server API responses. Each appends one JSON object to `out`, without a trailing
// newline; the caller joins several objects of one frame with '\n'. Field order is fixed (the
// doc's examples are compared byte for byte with this output by the unit tests).
// Thread: any (pure functions over the caller's string).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/errors.h"

namespace herald::protocol {

// The protocol version this code speaks; announced in the connect result as "protocol".
inline constexpr uint32_t kProtocolVersion = 1;

// Who a connection is: {"user":..,"client":..,"info":..}. info_json empty = no "info" field.
struct ClientInfoView {
  std::string_view user;
  std::string_view client;
  std::string_view info_json;
};

// One publication as sent inside subscribe/history results and message pushes.
struct PublicationView {
  uint64_t offset = 0;
  std::string_view epoch;
  std::string_view data_json;            // valid JSON, copied verbatim
  const ClientInfoView* info = nullptr;  // the publishing client; null for server API publishes
  int64_t time_ms = 0;                   // Unix ms when published; 0 = no "time" field
};

void append_client_info(std::string& out, const ClientInfoView& info);
// {"offset":N,"epoch":"..","data":..[,"info":{..}][,"time":ms]}
void append_publication(std::string& out, const PublicationView& pub);

// {"id":N,"result":<result_json>}
void append_reply(std::string& out, uint32_t id, std::string_view result_json);
// {"id":N,"error":{"code":C,"message":"..","temporary":b}}; empty message = error_message(code).
void append_error(std::string& out, uint32_t id, ErrorCode code, std::string_view message = {});
// {"code":C,"message":"..","temporary":b}
void append_error_object(std::string& out, ErrorCode code, std::string_view message = {});

// Results (the object that goes after "result"):
// {"client":"..","version":"..","protocol":1,"ping":s,"pong":b}, then "ttl":s when the token
// expires (seconds left: time to refresh it), and, for a client on SSE or long-polling,
// "session":".." (what its later requests name). ttl_seconds 0: no "ttl".
void append_connect_result(std::string& out, std::string_view client_id,
                           std::string_view server_version, uint32_t ping_seconds, bool pong,
                           std::string_view session = {}, uint64_t ttl_seconds = 0);
// {"ttl":s} when the new token expires, else {}.
void append_refresh_result(std::string& out, uint64_t ttl_seconds);
// {"epoch":"..","offset":N,"recoverable":b,"recovered":b,"publications":[..]}
void append_subscribe_result(std::string& out, std::string_view epoch, uint64_t offset,
                             bool recoverable, bool recovered,
                             std::span<const PublicationView> publications);
// {"offset":N,"epoch":".."}
void append_publish_result(std::string& out, uint64_t offset, std::string_view epoch);
// {"publications":[..],"offset":N,"epoch":".."}
void append_history_result(std::string& out, std::span<const PublicationView> publications,
                           uint64_t offset, std::string_view epoch);
// {"clients":{"<client>":{"user":..,"client":..[,"info":..]},..}}
void append_presence_result(std::string& out, std::span<const ClientInfoView> clients);
// {"num_clients":N,"num_users":N}
void append_presence_stats_result(std::string& out, uint64_t num_clients, uint64_t num_users);

// Pushes (no id):
// {"push":"message","channel":"..",<publication fields>}
void append_message_push(std::string& out, std::string_view channel, const PublicationView& pub);
// {"push":"join","channel":"..","info":{..}} and the same with "leave".
void append_join_push(std::string& out, std::string_view channel, const ClientInfoView& info);
void append_leave_push(std::string& out, std::string_view channel, const ClientInfoView& info);
// {"push":"unsubscribe","channel":"..","code":C,"reason":".."}; empty reason = the default.
void append_unsubscribe_push(std::string& out, std::string_view channel, UnsubscribeCode code,
                             std::string_view reason = {});
// {"push":"disconnect","code":C,"reason":"..","reconnect":b}; empty reason = the default.
void append_disconnect_push(std::string& out, DisconnectCode code, std::string_view reason = {});

// Server API bodies: {"result":<json>} (HTTP 200) and {"error":{..}} (HTTP http_status(code)).
void append_api_result(std::string& out, std::string_view result_json);
void append_api_error(std::string& out, ErrorCode code, std::string_view message = {});

}  // namespace herald::protocol
