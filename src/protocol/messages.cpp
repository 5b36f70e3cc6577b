#include "protocol/messages.h"

#include "protocol/json_writer.h"

namespace herald::protocol {

namespace {

void write_client_info(JsonWriter& w, const ClientInfoView& info) {
  w.begin_object().str("user", info.user).str("client", info.client);
  if (!info.info_json.empty()) {
    w.raw("info", info.info_json);
  }
  w.end_object();
}

// The publication's fields without the braces, so a message push can share them.
void write_publication_fields(JsonWriter& w, const PublicationView& pub) {
  w.uint("offset", pub.offset).str("epoch", pub.epoch).raw("data", pub.data_json);
  if (pub.info != nullptr) {
    write_client_info(w.key("info"), *pub.info);
  }
  if (pub.time_ms != 0) {
    w.int64("time", pub.time_ms);
  }
}

void write_publications(JsonWriter& w, std::span<const PublicationView> pubs) {
  w.array("publications");
  for (const PublicationView& p : pubs) {
    w.begin_object();
    write_publication_fields(w, p);
    w.end_object();
  }
  w.end_array();
}

void write_error_object(JsonWriter& w, ErrorCode code, std::string_view message) {
  w.begin_object()
      .uint("code", code_value(code))
      .str("message", message.empty() ? error_message(code) : message)
      .boolean("temporary", is_temporary(code))
      .end_object();
}

void append_presence_push(std::string& out, std::string_view type, std::string_view channel,
                          const ClientInfoView& info) {
  JsonWriter w(out);
  w.begin_object().str("push", type).str("channel", channel);
  write_client_info(w.key("info"), info);
  w.end_object();
}

}  // namespace

void append_client_info(std::string& out, const ClientInfoView& info) {
  JsonWriter w(out);
  write_client_info(w, info);
}

void append_publication(std::string& out, const PublicationView& pub) {
  JsonWriter w(out);
  w.begin_object();
  write_publication_fields(w, pub);
  w.end_object();
}

void append_reply(std::string& out, uint32_t id, std::string_view result_json) {
  JsonWriter w(out);
  w.begin_object().uint("id", id).raw("result", result_json).end_object();
}

void append_error(std::string& out, uint32_t id, ErrorCode code, std::string_view message) {
  JsonWriter w(out);
  w.begin_object().uint("id", id);
  write_error_object(w.key("error"), code, message);
  w.end_object();
}

void append_error_object(std::string& out, ErrorCode code, std::string_view message) {
  JsonWriter w(out);
  write_error_object(w, code, message);
}

void append_connect_result(std::string& out, std::string_view client_id,
                           std::string_view server_version, uint32_t ping_seconds, bool pong,
                           std::string_view session, uint64_t ttl_seconds) {
  JsonWriter w(out);
  w.begin_object()
      .str("client", client_id)
      .str("version", server_version)
      .uint("protocol", kProtocolVersion)
      .uint("ping", ping_seconds)
      .boolean("pong", pong);
  if (ttl_seconds != 0) {
    w.uint("ttl", ttl_seconds);
  }
  if (!session.empty()) {
    w.str("session", session);
  }
  w.end_object();
}

void append_refresh_result(std::string& out, uint64_t ttl_seconds) {
  JsonWriter w(out);
  w.begin_object();
  if (ttl_seconds != 0) {
    w.uint("ttl", ttl_seconds);
  }
  w.end_object();
}

void append_subscribe_result(std::string& out, std::string_view epoch, uint64_t offset,
                             bool recoverable, bool recovered,
                             std::span<const PublicationView> publications) {
  JsonWriter w(out);
  w.begin_object()
      .str("epoch", epoch)
      .uint("offset", offset)
      .boolean("recoverable", recoverable)
      .boolean("recovered", recovered);
  write_publications(w, publications);
  w.end_object();
}

void append_publish_result(std::string& out, uint64_t offset, std::string_view epoch) {
  JsonWriter w(out);
  w.begin_object().uint("offset", offset).str("epoch", epoch).end_object();
}

void append_history_result(std::string& out, std::span<const PublicationView> publications,
                           uint64_t offset, std::string_view epoch) {
  JsonWriter w(out);
  w.begin_object();
  write_publications(w, publications);
  w.uint("offset", offset).str("epoch", epoch).end_object();
}

void append_presence_result(std::string& out, std::span<const ClientInfoView> clients) {
  JsonWriter w(out);
  w.begin_object().object("clients");
  for (const ClientInfoView& c : clients) {
    write_client_info(w.key(c.client), c);
  }
  w.end_object().end_object();
}

void append_presence_stats_result(std::string& out, uint64_t num_clients, uint64_t num_users) {
  JsonWriter w(out);
  w.begin_object().uint("num_clients", num_clients).uint("num_users", num_users).end_object();
}

void append_message_push(std::string& out, std::string_view channel, const PublicationView& pub) {
  JsonWriter w(out);
  w.begin_object().str("push", "message").str("channel", channel);
  write_publication_fields(w, pub);
  w.end_object();
}

void append_join_push(std::string& out, std::string_view channel, const ClientInfoView& info) {
  append_presence_push(out, "join", channel, info);
}

void append_leave_push(std::string& out, std::string_view channel, const ClientInfoView& info) {
  append_presence_push(out, "leave", channel, info);
}

void append_unsubscribe_push(std::string& out, std::string_view channel, UnsubscribeCode code,
                             std::string_view reason) {
  JsonWriter w(out);
  w.begin_object()
      .str("push", "unsubscribe")
      .str("channel", channel)
      .uint("code", static_cast<uint16_t>(code))
      .str("reason", reason.empty() ? unsubscribe_reason(code) : reason)
      .end_object();
}

void append_disconnect_push(std::string& out, DisconnectCode code, std::string_view reason) {
  auto value = static_cast<uint16_t>(code);
  JsonWriter w(out);
  w.begin_object()
      .str("push", "disconnect")
      .uint("code", value)
      .str("reason", reason.empty() ? disconnect_reason(code) : reason)
      .boolean("reconnect", should_reconnect(value))
      .end_object();
}

void append_api_result(std::string& out, std::string_view result_json) {
  JsonWriter w(out);
  w.begin_object().raw("result", result_json).end_object();
}

void append_api_error(std::string& out, ErrorCode code, std::string_view message) {
  JsonWriter w(out);
  w.begin_object();
  write_error_object(w.key("error"), code, message);
  w.end_object();
}

}  // namespace herald::protocol
