#include "pusher/rest_api.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/json_string.h"
#include "http/url.h"
#include "pusher/endpoint.h"
#include "pusher/rest_nodes.h"
#include "pusher/signing.h"
#include "transport/connection.h"
#include "transport/http_session.h"
#include "transport/loop_services.h"

namespace herald::pusher {
namespace {

using transport::HttpSession;

constexpr std::string_view kJson = "application/json";
constexpr size_t kMaxChannelsPerEvent = 100;
constexpr size_t kMaxBatch = 10;

std::string error_body(std::string_view message) {
  std::string out = R"({"error":)";
  append_json_string(out, message);
  out += '}';
  return out;
}

// Answers the request being routed later (after the broker or the other loops answered), if the
// connection is still open then; answers keep request order (HttpSession's tickets).
class Later {
 public:
  Later(HttpSession& http, bool keep)
      : services_(&http.conn().services()), conn_id_(http.conn().id()), keep_(keep),
        ticket_(http.begin_async()) {}
  void answer(Endpoint& ep, int status, std::string_view body) const {
    (status < 300 ? ep.metrics().rest_requests : ep.metrics().rest_refusals).add();
    auto it = services_->async_waiting.find(conn_id_);
    if (it != services_->async_waiting.end()) {
      it->second->answer_async(ticket_, status, kJson, body, keep_);
    }
  }

 private:
  transport::LoopServices* services_;
  uint64_t conn_id_;
  bool keep_;
  uint64_t ticket_;
};

class Request {
 public:
  Request(Endpoint& ep, HttpSession& http, const http::Request& req, std::string_view body,
          const App& app, std::string_view rest)
      : ep_(ep), http_(http), req_(req), body_(body), app_(app), rest_(rest),
        keep_(req.keep_alive) {}

  void run() {
    if (rest_ == "events") {
      if (post_only()) {
        events();
      }
    } else if (rest_ == "batch_events") {
      if (post_only()) {
        batch_events();
      }
    } else if (rest_ == "channels") {
      if (get_only()) {
        channels();
      }
    } else if (rest_.starts_with("channels/")) {
      std::string_view name = rest_.substr(9);
      bool users = name.ends_with("/users");
      if (users) {
        name.remove_suffix(6);
      }
      if (get_only()) {
        users ? channel_users(name) : channel(name);
      }
    } else if (rest_.starts_with("users/") && rest_.ends_with("/terminate_connections") &&
               rest_.size() > 6 + 22) {
      if (post_only()) {
        terminate(rest_.substr(6, rest_.size() - 6 - 22));
      }
    } else {
      fail(404, "no such endpoint: " + std::string(req_.path));
    }
  }

 private:
  bool fail(int status, std::string_view message) {
    ep_.metrics().rest_refusals.add();
    http_.respond(status, kJson, error_body(message), keep_);
    return false;
  }
  bool ok(std::string_view body) {
    ep_.metrics().rest_requests.add();
    http_.respond(200, kJson, body, keep_);
    return true;
  }
  bool post_only() {
    return req_.method == http::Method::kPost ||
           (http_.respond(405, kJson, error_body("method not allowed"), false, "Allow: POST\r\n"),
            ep_.metrics().rest_refusals.add(), false);
  }
  bool get_only() {
    return req_.method == http::Method::kGet ||
           (http_.respond(405, kJson, error_body("method not allowed"), false, "Allow: GET\r\n"),
            ep_.metrics().rest_refusals.add(), false);
  }
  std::string query(std::string_view name) const {
    return http::query_param_decoded(req_.query, name).value_or(std::string());
  }

  // One event to validate: its channels, name, data (as JSON text) and socket_id.
  struct Event {
    std::vector<std::string> channels;
    std::string name;
    std::string data;
    std::string socket_id;
  };

  // Reads an event object (of `events` or of a `batch` item); false after answering 400/413.
  bool read_event(simdjson::dom::object obj, bool batch_item, Event& ev) {
    std::string_view s;
    if (obj["name"].get_string().get(s) != simdjson::SUCCESS || s.empty() ||
        s.size() > kMaxEventName) {
      return fail(400, "\"name\" must be a string of 1-200 bytes");
    }
    ev.name = std::string(s);
    simdjson::dom::element data;
    if (obj["data"].get(data) != simdjson::SUCCESS) {
      return fail(400, "\"data\" is required");
    }
    size_t data_size = 0;
    if (data.get_string().get(s) == simdjson::SUCCESS) {
      data_size = s.size();
      append_json_string(ev.data, s);
    } else {
      ev.data = simdjson::minify(data);
      data_size = ev.data.size();
    }
    if (data_size > app_.options.max_event_size) {
      return fail(413, "\"data\" is over " + std::to_string(app_.options.max_event_size) + " bytes");
    }
    if (obj["socket_id"].get_string().get(s) == simdjson::SUCCESS) {
      if (!is_socket_id(s)) {
        return fail(400, "\"socket_id\" must look like 123.456");
      }
      ev.socket_id = std::string(s);
    }
    simdjson::dom::array channels;
    if (!batch_item && obj["channels"].get_array().get(channels) == simdjson::SUCCESS) {
      for (simdjson::dom::element c : channels) {
        if (c.get_string().get(s) != simdjson::SUCCESS) {
          return fail(400, "\"channels\" must be an array of strings");
        }
        ev.channels.emplace_back(s);
      }
    } else if (obj["channel"].get_string().get(s) == simdjson::SUCCESS) {
      ev.channels.emplace_back(s);
    } else {
      return fail(400, batch_item ? "a batch event needs \"channel\""
                                  : "\"channels\" (an array) or \"channel\" is required");
    }
    if (ev.channels.empty() || ev.channels.size() > kMaxChannelsPerEvent) {
      return fail(400, "an event goes to 1-100 channels");
    }
    for (const std::string& c : ev.channels) {
      if (!valid_channel_name(c)) {
        return fail(400, "invalid channel name (1-200 bytes of [A-Za-z0-9_-=@,.;]): " +
                             c.substr(0, kMaxChannelName));
      }
    }
    return true;
  }

  bool parse_body(simdjson::dom::object& obj) {
    simdjson::dom::element root;
    if (parser_.parse(body_).get(root) != simdjson::SUCCESS) {
      return fail(400, "the body is not valid JSON");
    }
    if (root.get_object().get(obj) != simdjson::SUCCESS) {
      return fail(400, "the body must be a JSON object");
    }
    return true;
  }

  // Publishes every event to every channel; answers {} once the broker took them all.
  bool publish(std::vector<Event> events) {
    struct Count {
      size_t remaining = 0;
      bool failed = false;
    };
    auto count = std::make_shared<Count>();
    for (const Event& ev : events) {
      count->remaining += ev.channels.size();
    }
    Later later(http_, keep_);
    Endpoint* ep = &ep_;
    for (const Event& ev : events) {
      std::string data = publication_data(ev.name, ev.data, {});
      for (const std::string& c : ev.channels) {
        broker::PublishRequest pr;
        pr.data = data;
        pr.publisher.client = ev.socket_id;
        ep_.metrics().rest_events.add();
        ep_.host().hub().publish(herald_channel(app_.ns, c), std::move(pr),
                                 [ep, count, later](Result<broker::PublishResult> r) {
                                   count->failed |= !r.ok();
                                   if (--count->remaining == 0) {
                                     if (count->failed) {
                                       later.answer(*ep, 503,
                                                    error_body("the broker is unavailable"));
                                     } else {
                                       later.answer(*ep, 200, "{}");
                                     }
                                   }
                                 });
      }
    }
    return true;
  }

  bool events() {
    simdjson::dom::object obj;
    Event ev;
    if (!parse_body(obj) || !read_event(obj, false, ev)) {
      return false;
    }
    std::vector<Event> all;
    all.push_back(std::move(ev));
    return publish(std::move(all));
  }

  bool batch_events() {
    simdjson::dom::object obj;
    if (!parse_body(obj)) {
      return false;
    }
    simdjson::dom::array batch;
    if (obj["batch"].get_array().get(batch) != simdjson::SUCCESS) {
      return fail(400, "\"batch\" must be an array of events");
    }
    std::vector<Event> all;
    for (simdjson::dom::element item : batch) {
      simdjson::dom::object o;
      if (item.get_object().get(o) != simdjson::SUCCESS) {
        return fail(400, "each batch item must be an object");
      }
      Event ev;
      if (!read_event(o, true, ev)) {
        return false;
      }
      all.push_back(std::move(ev));
      if (all.size() > kMaxBatch) {
        return fail(400, "a batch holds at most 10 events");
      }
    }
    if (all.empty()) {
      return ok("{\"batch\":[]}");
    }
    return publish(std::move(all));
  }

  // The attributes asked for in `info` ("user_count,subscription_count"); false after a 400.
  bool read_info(bool& user_count, bool& subscription_count) {
    std::string info = query("info");
    size_t pos = 0;
    while (pos <= info.size() && !info.empty()) {
      size_t comma = info.find(',', pos);
      std::string_view item =
          std::string_view(info).substr(pos, comma == std::string::npos ? std::string::npos
                                                                         : comma - pos);
      if (item == "user_count") {
        user_count = true;
      } else if (item == "subscription_count") {
        subscription_count = true;
      } else if (!item.empty()) {
        return fail(400, "info may hold user_count and subscription_count");
      }
      if (comma == std::string::npos) {
        break;
      }
      pos = comma + 1;
    }
    return true;
  }

  bool channels() {
    std::string prefix = query("filter_by_prefix");
    bool user_count = false;
    bool subscription_count = false;
    if (!read_info(user_count, subscription_count)) {
      return false;
    }
    if (user_count && !prefix.starts_with("presence-")) {
      return fail(400, "info=user_count needs filter_by_prefix=presence-");
    }
    Later later(http_, keep_);
    Endpoint* ep = &ep_;
    const App* app = &app_;
    all_subscriber_counts(
        ep_, app_,
        [ep, app, later, prefix, user_count, subscription_count](Counts counts) {
          std::map<std::string, size_t> total;  // sorted: a stable answer
          for (const auto& [name, n] : counts) {
            std::string_view pname = pusher_channel(app->ns, name);
            if (pname.starts_with(prefix)) {
              total[std::string(pname)] += n;
            }
          }
          auto render = std::make_shared<std::map<std::string, size_t>>();  // users per channel
          auto finish = [ep, later, total, render, user_count, subscription_count] {
            std::string out = R"({"channels":{)";
            bool first = true;
            for (const auto& [name, n] : total) {
              if (!first) {
                out += ',';
              }
              first = false;
              append_json_string(out, name);
              out += ":{";
              bool inner = false;
              if (user_count) {
                out += R"("user_count":)" + std::to_string((*render)[name]);
                inner = true;
              }
              if (subscription_count) {
                out += std::string(inner ? "," : "") + R"("subscription_count":)" +
                       std::to_string(n);
              }
              out += '}';
            }
            out += "}}";
            later.answer(*ep, 200, out);
          };
          if (!user_count || total.empty()) {
            return finish();
          }
          auto remaining = std::make_shared<size_t>(total.size());
          for (const auto& [name, n] : total) {
            ep->host().hub().presence_stats(
                herald_channel(app->ns, name),
                [render, remaining, finish, name = name](Result<broker::PresenceStats> r) {
                  (*render)[name] = r.ok() ? r.value().users : 0;
                  if (--*remaining == 0) {
                    finish();
                  }
                });
          }
        });
    return true;
  }

  bool channel(std::string_view name) {
    if (!valid_channel_name(name)) {
      return fail(400, "invalid channel name");
    }
    bool user_count = false;
    bool subscription_count = false;
    if (!read_info(user_count, subscription_count)) {
      return false;
    }
    if (user_count && !is_presence(channel_kind(name))) {
      return fail(400, "user_count is only for presence channels");
    }
    Later later(http_, keep_);
    Endpoint* ep = &ep_;
    std::string herald = herald_channel(app_.ns, name);
    all_subscriber_counts(
        ep_, app_, [ep, later, herald, user_count, subscription_count](Counts counts) {
          auto it = counts.find(herald);
          size_t n = it == counts.end() ? 0 : it->second;
          auto finish = [ep, later, n, subscription_count, user_count](size_t users) {
            std::string out = R"({"occupied":)" + std::string(n > 0 ? "true" : "false");
            if (user_count) {
              out += R"(,"user_count":)" + std::to_string(users);
            }
            if (subscription_count) {
              out += R"(,"subscription_count":)" + std::to_string(n);
            }
            out += '}';
            later.answer(*ep, 200, out);
          };
          if (!user_count) {
            return finish(0);
          }
          ep->host().hub().presence_stats(herald, [finish](Result<broker::PresenceStats> r) {
            finish(r.ok() ? r.value().users : 0);
          });
        });
    return true;
  }

  bool channel_users(std::string_view name) {
    if (!valid_channel_name(name) || !is_presence(channel_kind(name))) {
      return fail(400, "users are listed for presence channels only");
    }
    Later later(http_, keep_);
    Endpoint* ep = &ep_;
    ep_.host().hub().presence(herald_channel(app_.ns, name),
                              [ep, later](Result<std::vector<broker::ClientInfo>> r) {
                                if (!r.ok()) {
                                  later.answer(*ep, 503, error_body("presence is unavailable"));
                                  return;
                                }
                                std::vector<std::string> users;
                                for (const auto& who : r.value()) {
                                  users.push_back(who.user);
                                }
                                std::sort(users.begin(), users.end());
                                users.erase(std::unique(users.begin(), users.end()), users.end());
                                std::string out = R"({"users":[)";
                                for (size_t i = 0; i < users.size(); ++i) {
                                  out += i == 0 ? R"({"id":)" : R"(,{"id":)";
                                  append_json_string(out, users[i]);
                                  out += '}';
                                }
                                out += "]}";
                                later.answer(*ep, 200, out);
                              });
    return true;
  }

  bool terminate(std::string_view user_view) {
    std::string user;
    if (user_view.empty() || !http::percent_decode(user_view, user) || user.empty()) {
      return fail(400, "a user id is required");
    }
    Later later(http_, keep_);
    Endpoint* ep = &ep_;
    all_terminate(ep_, app_, std::move(user), [ep, later](size_t) { later.answer(*ep, 200, "{}"); });
    return true;
  }

  Endpoint& ep_;
  HttpSession& http_;
  const http::Request& req_;
  std::string_view body_;
  const App& app_;
  std::string_view rest_;
  bool keep_;
  simdjson::dom::parser parser_;
};

// The decoded query as name/value pairs; false if a value is badly percent-encoded.
bool decode_query(std::string_view query, std::vector<std::pair<std::string, std::string>>& out) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view item = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    pos = amp == std::string_view::npos ? query.size() : amp + 1;
    if (item.empty()) {
      continue;
    }
    size_t eq = item.find('=');
    std::string name;
    std::string value;
    if (!http::percent_decode(item.substr(0, eq), name, true) ||
        (eq != std::string_view::npos && !http::percent_decode(item.substr(eq + 1), value, true))) {
      return false;
    }
    out.emplace_back(std::move(name), std::move(value));
    if (out.size() > 64) {
      return false;
    }
  }
  return true;
}

}  // namespace

void serve_rest(Endpoint& ep, HttpSession& http, const http::Request& req, std::string_view body) {
  auto refuse = [&](int status, std::string_view message) {
    ep.metrics().rest_refusals.add();
    http.respond(status, kJson, error_body(message), req.keep_alive);
  };
  // /apps/{app_id}/{rest}
  std::string_view tail = req.path.substr(6);
  size_t slash = tail.find('/');
  if (slash == std::string_view::npos) {
    return refuse(404, "no such endpoint");
  }
  const App* app = ep.apps().by_id(tail.substr(0, slash));
  if (app == nullptr) {
    return refuse(404, "unknown app id");
  }
  SignedRequest signed_req;
  signed_req.method = req.method == http::Method::kPost  ? "POST"
                      : req.method == http::Method::kGet ? "GET"
                                                         : "OTHER";
  signed_req.path = req.path;
  signed_req.body = body;
  if (!decode_query(req.query, signed_req.query)) {
    return refuse(400, "the query string is badly encoded or too long");
  }
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  RequestAuth auth = check_request(signed_req, app->options.key, app->options.secret, now_s);
  if (auth != RequestAuth::kOk) {
    return refuse(auth == RequestAuth::kMissingParameter ? 400 : 401, describe(auth));
  }
  Request(ep, http, req, body, *app, tail.substr(slash + 1)).run();
}

}  // namespace herald::pusher
