#include "protocol/api_decoder.h"

#include <array>

#include "protocol/channel.h"
#include "protocol/detail/json_reader.h"

namespace herald::protocol {

namespace {

using detail::FieldError;
using detail::ObjectFields;

constexpr std::array<std::string_view, 8> kApiMethodNames = {
    "publish", "broadcast", "presence",   "presence_stats",
    "history", "channels",  "disconnect", "info",
};

constexpr std::string_view kParamNames[] = {"channel",         "channels", "data",
                                            "idempotency_key", "since",    "limit",
                                            "reverse",         "pattern",  "user"};
enum : size_t {
  kChannel,
  kChannels,
  kData,
  kIdempotencyKey,
  kSince,
  kLimit,
  kReverse,
  kPattern,
  kUser
};

bool read_channels(const ObjectFields& p, const Limits& limits, std::vector<std::string>& out,
                   FieldError& err) {
  if (!p[kChannels].present()) {
    detail::set_error(err, ErrorCode::kMissingField, {}, p.path(), "channels");
    return false;
  }
  simdjson::dom::array arr;
  if (p[kChannels].value.get_array().get(arr) != simdjson::SUCCESS) {
    detail::set_error(err, ErrorCode::kWrongType, " (expected an array of channel names)", p.path(),
                      "channels");
    return false;
  }
  size_t n = arr.size();
  if (n == 0 || n > limits.max_broadcast_channels) {
    detail::set_error(err, n == 0 ? ErrorCode::kMissingField : ErrorCode::kLimitExceeded,
                      " (1-" + std::to_string(limits.max_broadcast_channels) + " channels)",
                      p.path(), "channels");
    return false;
  }
  out.reserve(n);
  for (simdjson::dom::element e : arr) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
      detail::set_error(err, ErrorCode::kWrongType, "[] (expected strings)", p.path(), "channels");
      return false;
    }
    if (!is_valid_channel(s, limits.max_channel)) {
      detail::set_error(err, ErrorCode::kInvalidChannel, "[]", p.path(), "channels");
      return false;
    }
    out.emplace_back(s);
  }
  return true;
}

bool decode_params(ApiMethod method, ObjectFields& p, const Limits& limits, ApiCommand& cmd,
                   FieldError& err) {
  if (!p.check_duplicates(err)) {
    return false;
  }
  switch (method) {
    case ApiMethod::kPublish:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err) &&
             detail::read_data(p, kData, true, limits.max_data, cmd.data, err) &&
             detail::read_string(p, kIdempotencyKey, false, limits.max_string, cmd.idempotency_key,
                                 err);
    case ApiMethod::kBroadcast:
      return read_channels(p, limits, cmd.channels, err) &&
             detail::read_data(p, kData, true, limits.max_data, cmd.data, err) &&
             detail::read_string(p, kIdempotencyKey, false, limits.max_string, cmd.idempotency_key,
                                 err);
    case ApiMethod::kPresence:
    case ApiMethod::kPresenceStats:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err);
    case ApiMethod::kHistory:
      return detail::read_channel(p, kChannel, limits, cmd.channel, err) &&
             detail::read_since(p, kSince, limits, cmd.since, err) &&
             detail::read_limit(p, kLimit, cmd.limit, err) &&
             detail::read_bool(p, kReverse, cmd.reverse, err);
    case ApiMethod::kChannels:
      return detail::read_string(p, kPattern, false, limits.max_string, cmd.pattern, err);
    case ApiMethod::kDisconnect:
      if (!detail::read_string(p, kUser, true, limits.max_string, cmd.user, err)) {
        return false;
      }
      if (cmd.user.empty()) {  // "" is every anonymous connection: never a target by accident
        detail::set_error(err, ErrorCode::kWrongType, " (expected a non-empty string)", p.path(),
                          "user");
        return false;
      }
      return true;
    case ApiMethod::kInfo:
      return true;
  }
  return true;
}

// Decodes one params value (the whole body, or a batch command's "params"). obj null = {}.
ApiDecoded decode_one(ApiMethod method, const simdjson::dom::object* obj, std::string_view raw,
                      std::string_view path, const Limits& limits) {
  ApiCommand cmd;
  cmd.method = method;
  FieldError err;
  ObjectFields p(obj, raw, kParamNames, path);
  if (!decode_params(method, p, limits, cmd, err)) {
    return ApiError{err.code, std::move(err.message)};
  }
  return cmd;
}

}  // namespace

std::string_view api_method_name(ApiMethod m) {
  return kApiMethodNames[static_cast<size_t>(m)];
}

std::optional<ApiMethod> api_method_from_name(std::string_view name) {
  return detail::enum_from_name<ApiMethod>(kApiMethodNames, name);
}

ApiDecoder::ApiDecoder(const Limits& limits)
    : limits_(limits),
      parser_(std::make_unique<detail::JsonParser>(limits.max_depth, limits.max_api_body)) {}

ApiDecoder::~ApiDecoder() = default;

ApiDecoded ApiDecoder::decode(std::string_view method_name, std::string_view body) {
  std::optional<ApiMethod> method = api_method_from_name(method_name);
  if (!method) {
    FieldError err;
    detail::set_error(err, ErrorCode::kUnknownMethod, {}, {}, method_name.substr(0, 64));
    return ApiError{err.code, std::move(err.message)};
  }
  if (body.size() > limits_.max_api_body) {
    return ApiError{ErrorCode::kTooLarge,
                    "too large: body over " + std::to_string(limits_.max_api_body) + " bytes"};
  }
  std::string_view text = detail::trim_json_space(parser_->load(body));
  if (text.empty()) {
    return decode_one(*method, nullptr, {}, {}, limits_);
  }
  FieldError err;
  simdjson::dom::element root;
  if (!parser_->parse(text, root, err)) {
    return ApiError{err.code, std::move(err.message)};
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return ApiError{ErrorCode::kBadRequest, "bad request: the body is a JSON object"};
  }
  return decode_one(*method, &obj, text, {}, limits_);
}

std::optional<ApiError> ApiDecoder::decode_batch(std::string_view body,
                                                 std::vector<ApiDecoded>& out) {
  if (body.size() > limits_.max_api_body) {
    return ApiError{ErrorCode::kTooLarge,
                    "too large: body over " + std::to_string(limits_.max_api_body) + " bytes"};
  }
  std::string_view text = detail::trim_json_space(parser_->load(body));
  FieldError err;
  simdjson::dom::element root;
  if (text.empty()) {
    return ApiError{ErrorCode::kMissingField, "missing field: commands"};
  }
  if (!parser_->parse(text, root, err)) {
    return ApiError{err.code, std::move(err.message)};
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return ApiError{ErrorCode::kBadRequest, "bad request: the body is a JSON object"};
  }
  static constexpr std::string_view kBatchNames[] = {"commands"};
  ObjectFields batch(&obj, text, kBatchNames, {});
  if (!batch.check_duplicates(err)) {
    return ApiError{err.code, std::move(err.message)};
  }
  simdjson::dom::array commands;
  if (!batch[0].present()) {
    return ApiError{ErrorCode::kMissingField, "missing field: commands"};
  }
  if (batch[0].value.get_array().get(commands) != simdjson::SUCCESS) {
    return ApiError{ErrorCode::kWrongType, "wrong type or value: commands (expected an array)"};
  }
  if (commands.size() > limits_.max_batch_commands) {
    return ApiError{ErrorCode::kLimitExceeded, "limit exceeded: over " +
                                                   std::to_string(limits_.max_batch_commands) +
                                                   " commands in one batch"};
  }
  // Raw text of each command, for the data fields inside: walk the array's text in step.
  std::string_view array_raw = batch.raw_value(0);
  size_t pos = 1;  // after '['
  static constexpr std::string_view kCommandNames[] = {"method", "params"};
  for (simdjson::dom::element e : commands) {
    std::string_view item_raw = detail::next_array_item(array_raw, pos);
    simdjson::dom::object cmd_obj;
    if (e.get_object().get(cmd_obj) != simdjson::SUCCESS) {
      out.emplace_back(
          ApiError{ErrorCode::kBadRequest, "bad request: a batch command is a JSON object"});
      continue;
    }
    ObjectFields c(&cmd_obj, item_raw, kCommandNames, {});
    std::string name;
    if (!c.check_duplicates(err) || !detail::read_string(c, 0, true, 64, name, err)) {
      if (err.code == ErrorCode::kTooLarge) {
        err = {ErrorCode::kUnknownMethod, "unknown method"};
      }
      out.emplace_back(ApiError{err.code, std::move(err.message)});
      continue;
    }
    std::optional<ApiMethod> method = api_method_from_name(name);
    if (!method) {
      detail::set_error(err, ErrorCode::kUnknownMethod, {}, {}, name);
      out.emplace_back(ApiError{err.code, std::move(err.message)});
      continue;
    }
    if (!c[1].present()) {
      out.push_back(decode_one(*method, nullptr, {}, "params.", limits_));
      continue;
    }
    simdjson::dom::object params;
    if (c[1].value.get_object().get(params) != simdjson::SUCCESS) {
      out.emplace_back(
          ApiError{ErrorCode::kWrongType, "wrong type or value: params (expected an object)"});
      continue;
    }
    out.push_back(decode_one(*method, &params, c.raw_value(1), "params.", limits_));
  }
  return std::nullopt;
}

}  // namespace herald::protocol
