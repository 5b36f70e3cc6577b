#include "protocol/command_decoder.h"

#include <array>

#include "protocol/detail/json_reader.h"
#include "protocol/messages.h"

namespace herald::protocol {

namespace {

using detail::FieldError;
using detail::ObjectFields;

constexpr std::array<std::string_view, 9> kMethodNames = {
    "connect",        "subscribe", "unsubscribe", "publish", "presence",
    "presence_stats", "history",   "ping",        "refresh",
};

// Top-level fields.
constexpr std::string_view kEnvelope[] = {"id", "method", "params"};
enum : size_t { kId, kMethod, kParams };

// Every params field any method reads; each method reads its own subset and ignores the rest
// like any unknown field.
constexpr std::string_view kParamNames[] = {"channel",         "data",  "since",   "recover",
                                            "token",           "name",  "version", "protocol",
                                            "idempotency_key", "limit", "reverse"};
enum : size_t {
  kChannel,
  kData,
  kSince,
  kRecover,
  kToken,
  kName,
  kVersion,
  kProtocol,
  kIdempotencyKey,
  kLimit,
  kReverse
};

bool decode_params(Method method, ObjectFields& p, const Limits& limits, Command& cmd,
                   FieldError& err) {
  if (!p.check_duplicates(err)) {
    return false;
  }
  switch (method) {
    case Method::kConnect: {
      std::optional<uint64_t> protocol;
      if (!detail::read_string(p, kToken, false, limits.max_token, cmd.token, err) ||
          !detail::read_data(p, kData, false, limits.max_data, cmd.data, err) ||
          !detail::read_string(p, kName, false, limits.max_string, cmd.name, err) ||
          !detail::read_string(p, kVersion, false, limits.max_string, cmd.version, err) ||
          !detail::read_uint(p, kProtocol, false, UINT32_MAX, protocol, err)) {
        return false;
      }
      if (protocol && *protocol != kProtocolVersion) {
        detail::set_error(err, ErrorCode::kUnsupportedProtocol, " (this server speaks 1)", p.path(),
                          "protocol");
        return false;
      }
      return true;
    }
    case Method::kSubscribe: {
      bool recover_given = p[kRecover].present();
      if (!detail::read_channel(p, kChannel, limits, cmd.channel, err) ||
          !detail::read_since(p, kSince, limits, cmd.since, err) ||
          !detail::read_bool(p, kRecover, cmd.recover, err) ||
          !detail::read_string(p, kToken, false, limits.max_token, cmd.token, err)) {
        return false;
      }
      if (!recover_given) {
        cmd.recover = cmd.since.has_value();
      } else if (cmd.recover && !cmd.since) {
        detail::set_error(err, ErrorCode::kMissingField, " (recover needs it)", p.path(), "since");
        return false;
      } else if (!cmd.recover) {
        cmd.since.reset();
      }
      return true;
    }
    case Method::kUnsubscribe:
    case Method::kPresence:
    case Method::kPresenceStats:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err);
    case Method::kPublish:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err) &&
             detail::read_data(p, kData, true, limits.max_data, cmd.data, err) &&
             detail::read_string(p, kIdempotencyKey, false, limits.max_string, cmd.idempotency_key,
                                 err);
    case Method::kHistory:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err) &&
             detail::read_since(p, kSince, limits, cmd.since, err) &&
             detail::read_limit(p, kLimit, cmd.limit, err) &&
             detail::read_bool(p, kReverse, cmd.reverse, err);
    case Method::kPing:
      return true;
    case Method::kRefresh:
      return detail::read_string(p, kToken, true, limits.max_token, cmd.token, err);
  }
  return true;
}

}  // namespace

std::string_view method_name(Method m) {
  return kMethodNames[static_cast<size_t>(m)];
}

std::optional<Method> method_from_name(std::string_view name) {
  return detail::enum_from_name<Method>(kMethodNames, name);
}

CommandDecoder::CommandDecoder(const Limits& limits)
    : limits_(limits),
      parser_(std::make_unique<detail::JsonParser>(limits.max_depth, limits.max_command)) {}

CommandDecoder::~CommandDecoder() = default;

void CommandDecoder::decode(std::string_view frame, std::vector<DecodedCommand>& out) {
  if (frame.size() > limits_.max_frame) {
    out.emplace_back(
        DecodeError{0, ErrorCode::kTooLarge,
                    "too large: frame over " + std::to_string(limits_.max_frame) + " bytes"});
    return;
  }
  std::string_view text = parser_->load(frame);
  size_t count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = text.size();
    }
    std::string_view line = detail::trim_json_space(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty()) {
      continue;
    }
    if (++count > limits_.max_commands_per_frame) {
      out.emplace_back(DecodeError{0, ErrorCode::kLimitExceeded,
                                   "limit exceeded: over " +
                                       std::to_string(limits_.max_commands_per_frame) +
                                       " commands in one frame; the rest were dropped"});
      return;
    }
    decode_line(line, out);
  }
}

void CommandDecoder::decode_line(std::string_view line, std::vector<DecodedCommand>& out) {
  FieldError err;
  if (line.size() > limits_.max_command) {
    out.emplace_back(
        DecodeError{detail::sniff_id(line), ErrorCode::kTooLarge,
                    "too large: command over " + std::to_string(limits_.max_command) + " bytes"});
    return;
  }
  simdjson::dom::element root;
  if (!parser_->parse(line, root, err)) {
    out.emplace_back(DecodeError{detail::sniff_id(line), err.code, std::move(err.message)});
    return;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    out.emplace_back(
        DecodeError{0, ErrorCode::kBadRequest, "bad request: a command is a JSON object"});
    return;
  }
  ObjectFields env(&obj, line, kEnvelope, {});
  // The id first: every later error can then be answered with it.
  std::optional<uint64_t> id;
  if (env[kId].duplicate) {
    detail::set_error(err, ErrorCode::kDuplicateField, {}, {}, "id");
  } else if (!env[kId].present()) {
    detail::set_error(err, ErrorCode::kMissingField, {}, {}, "id");
  } else if (!detail::read_uint(env, kId, true, UINT32_MAX, id, err) || *id == 0) {
    detail::set_error(err, ErrorCode::kWrongType, " (expected an integer 1..4294967295)", {}, "id");
    id.reset();
  }
  if (!id) {
    out.emplace_back(DecodeError{0, err.code, std::move(err.message)});
    return;
  }
  Command cmd;
  cmd.id = static_cast<uint32_t>(*id);
  auto fail = [&] { out.emplace_back(DecodeError{cmd.id, err.code, std::move(err.message)}); };
  if (!env.check_duplicates(err)) {
    return fail();
  }
  std::string method_text;
  if (!detail::read_string(env, kMethod, true, 64, method_text, err)) {
    if (err.code == ErrorCode::kTooLarge) {
      err.code = ErrorCode::kUnknownMethod;
      err.message = "unknown method";
    }
    return fail();
  }
  std::optional<Method> method = method_from_name(method_text);
  if (!method) {
    detail::set_error(err, ErrorCode::kUnknownMethod, {}, {}, method_text);
    return fail();
  }
  cmd.method = *method;
  simdjson::dom::object params_obj;
  const simdjson::dom::object* params = nullptr;  // absent params reads as {}
  std::string_view params_raw;
  if (env[kParams].present()) {
    if (env[kParams].value.get_object().get(params_obj) != simdjson::SUCCESS) {
      detail::set_error(err, ErrorCode::kWrongType, " (expected an object)", {}, "params");
      return fail();
    }
    params = &params_obj;
    params_raw = env.raw_value(kParams);
  }
  ObjectFields p(params, params_raw, kParamNames, "params.");
  if (!decode_params(cmd.method, p, limits_, cmd, err)) {
    return fail();
  }
  out.emplace_back(std::move(cmd));
}

}  // namespace herald::protocol
