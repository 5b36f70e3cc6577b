#include "pusher/rest_nodes.h"

#include <charconv>
#include <memory>
#include <utility>
#include <vector>

#include "net/gather.h"
#include "pusher/apps.h"
#include "pusher/endpoint.h"

namespace herald::pusher {
namespace {

constexpr std::string_view kCountsTopic = kNodeTopics[0];
constexpr std::string_view kTerminateTopic = kNodeTopics[1];

// Runs ask(endpoint) on every loop of this node, then done(answers) on the origin loop.
template <typename T>
void every_loop(Endpoint& origin, std::function<T(Endpoint&)> ask,
                std::function<void(std::vector<T>)> done) {
  Host* host = &origin.host();
  net::gather<T>(
      static_cast<size_t>(host->loop_count()),
      [host, ask = std::move(ask)](size_t i, std::function<void(T)> answer) {
        host->post_to(static_cast<int>(i),
                      [ask, answer = std::move(answer)](Endpoint& ep) { answer(ask(ep)); });
      },
      [host](std::function<void()> fn) { host->loop().post(std::move(fn)); }, std::move(done));
}

void node_counts(Endpoint& origin, const App& app, std::function<void(Counts)> done) {
  every_loop<Counts>(
      origin,
      [&app](Endpoint& e) {
        Counts c;
        e.subscriber_counts(app, c);
        return c;
      },
      [done = std::move(done)](std::vector<Counts> loops) {
        Counts total;
        for (Counts& c : loops) {
          for (auto& [name, n] : c) {
            total[name] += n;
          }
        }
        done(std::move(total));
      });
}

void node_terminate(Endpoint& origin, const App& app, std::string user,
                    std::function<void(size_t)> done) {
  every_loop<size_t>(
      origin, [&app, user = std::move(user)](Endpoint& e) { return e.terminate_user(app, user); },
      [done = std::move(done)](std::vector<size_t> loops) {
        size_t n = 0;
        for (size_t k : loops) {
          n += k;
        }
        done(n);
      });
}

// Counts on the node bus: one "<count> <channel>\n" line each (a channel name has no space or
// newline: channels.h).
std::string encode_counts(const Counts& c) {
  std::string out;
  for (const auto& [name, n] : c) {
    out += std::to_string(n);
    out += ' ';
    out += name;
    out += '\n';
  }
  return out;
}

void add_counts(std::string_view body, Counts& into) {
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    size_t n = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
    if (ec != std::errc{} || end == line.data() + line.size() || *end != ' ') {
      continue;  // not ours: skipped rather than trusted
    }
    into[std::string(line.substr(static_cast<size_t>(end - line.data()) + 1))] += n;
  }
}

size_t to_size(std::string_view s) {
  size_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

// Question bodies: "<app id>\n" then the rest (the user, for terminate).
std::string question(const App& app, std::string_view rest = {}) {
  std::string out = app.options.id;
  out += '\n';
  out += rest;
  return out;
}

}  // namespace

void all_subscriber_counts(Endpoint& origin, const App& app, std::function<void(Counts)> done) {
  Endpoint* home = &origin;
  node_counts(origin, app, [home, &app, done = std::move(done)](Counts mine) mutable {
    home->host().ask_other_nodes(
        kCountsTopic, question(app),
        [mine = std::move(mine), done = std::move(done)](std::vector<std::string> bodies) mutable {
          for (const std::string& b : bodies) {
            add_counts(b, mine);
          }
          done(std::move(mine));
        });
  });
}

void all_terminate(Endpoint& origin, const App& app, std::string user,
                   std::function<void(size_t)> done) {
  Endpoint* home = &origin;
  std::string body = question(app, user);
  node_terminate(origin, app, std::move(user),
                 [home, body = std::move(body), done = std::move(done)](size_t mine) mutable {
                   home->host().ask_other_nodes(
                       kTerminateTopic, std::move(body),
                       [mine, done = std::move(done)](std::vector<std::string> bodies) {
                         size_t n = mine;
                         for (const std::string& b : bodies) {
                           n += to_size(b);
                         }
                         done(n);
                       });
                 });
}

bool answer_node_question(Endpoint& loop0, std::string_view topic, std::string_view body,
                          std::function<void(std::string)> answer) {
  if (topic != kCountsTopic && topic != kTerminateTopic) {
    return false;
  }
  size_t nl = body.find('\n');
  const App* app = nl == std::string_view::npos ? nullptr : loop0.apps().by_id(body.substr(0, nl));
  if (app == nullptr) {
    answer({});  // an app this node does not have: nothing here
    return true;
  }
  if (topic == kCountsTopic) {
    node_counts(loop0, *app,
                [answer = std::move(answer)](Counts c) { answer(encode_counts(c)); });
  } else {
    node_terminate(loop0, *app, std::string(body.substr(nl + 1)),
                   [answer = std::move(answer)](size_t n) { answer(std::to_string(n)); });
  }
  return true;
}

}  // namespace herald::pusher
