#include "protocol/command_encoder.h"

#include "protocol/json_writer.h"

namespace herald::protocol {

namespace {

void write_since(JsonWriter& w, const std::optional<StreamPosition>& since) {
  if (since) {
    w.object("since").uint("offset", since->offset).str("epoch", since->epoch).end_object();
  }
}

void write_history_params(JsonWriter& w, const std::string& channel,
                          const std::optional<StreamPosition>& since,
                          const std::optional<uint32_t>& limit, bool reverse) {
  w.str("channel", channel);
  write_since(w, since);
  if (limit) {
    w.uint("limit", *limit);
  }
  if (reverse) {
    w.boolean("reverse", true);
  }
}

void write_optional_str(JsonWriter& w, std::string_view key, const std::string& v) {
  if (!v.empty()) {
    w.str(key, v);
  }
}

}  // namespace

void append_command(std::string& out, const Command& cmd) {
  JsonWriter w(out);
  w.begin_object().uint("id", cmd.id).str("method", method_name(cmd.method)).object("params");
  switch (cmd.method) {
    case Method::kConnect:
      write_optional_str(w, "token", cmd.token);
      if (!cmd.data.empty()) {
        w.raw("data", cmd.data);
      }
      write_optional_str(w, "name", cmd.name);
      write_optional_str(w, "version", cmd.version);
      break;
    case Method::kSubscribe:
      w.str("channel", cmd.channel);
      write_since(w, cmd.since);
      if (cmd.since) {
        w.boolean("recover", cmd.recover);
      }
      write_optional_str(w, "token", cmd.token);
      break;
    case Method::kUnsubscribe:
    case Method::kPresence:
    case Method::kPresenceStats:
      w.str("channel", cmd.channel);
      break;
    case Method::kPublish:
      w.str("channel", cmd.channel).raw("data", cmd.data);
      write_optional_str(w, "idempotency_key", cmd.idempotency_key);
      break;
    case Method::kHistory:
      write_history_params(w, cmd.channel, cmd.since, cmd.limit, cmd.reverse);
      break;
    case Method::kPing:
      break;
    case Method::kRefresh:
      w.str("token", cmd.token);
      break;
  }
  w.end_object().end_object();
}

void append_api_body(std::string& out, const ApiCommand& cmd) {
  JsonWriter w(out);
  w.begin_object();
  switch (cmd.method) {
    case ApiMethod::kPublish:
      w.str("channel", cmd.channel).raw("data", cmd.data);
      write_optional_str(w, "idempotency_key", cmd.idempotency_key);
      break;
    case ApiMethod::kBroadcast:
      w.array("channels");
      for (const std::string& c : cmd.channels) {
        w.string_value(c);
      }
      w.end_array().raw("data", cmd.data);
      write_optional_str(w, "idempotency_key", cmd.idempotency_key);
      break;
    case ApiMethod::kPresence:
    case ApiMethod::kPresenceStats:
      w.str("channel", cmd.channel);
      break;
    case ApiMethod::kHistory:
      write_history_params(w, cmd.channel, cmd.since, cmd.limit, cmd.reverse);
      break;
    case ApiMethod::kChannels:
      write_optional_str(w, "pattern", cmd.pattern);
      break;
    case ApiMethod::kDisconnect:
      w.str("user", cmd.user);
      break;
    case ApiMethod::kInfo:
      break;
  }
  w.end_object();
}

}  // namespace herald::protocol
