#include "sub_command.h"

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "herald/client/blocking_client.h"
#include "herald/client/tls.h"
#include "herald/client/url.h"
#include "protocol/json_writer.h"
#include "server_lines.h"

namespace herald::app {
namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

constexpr std::string_view kEndpoint = "/connection/websocket";
constexpr Millis kConnectTimeout{5000};
// How long a blocked wait may go without looking at the signal flag: the bound on how late
// SIGINT/SIGTERM is noticed.
constexpr Millis kPollSlice{200};
// PROTOCOL.md: a client that hears nothing for `ping` + 20 s considers the connection dead.
constexpr uint64_t kDefaultPingSeconds = 25;
constexpr uint64_t kDeadAfterExtraSeconds = 20;
constexpr uint64_t kConnectId = 1;

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int /*sig*/) {
  g_stop = 1;
}

bool is_no_reconnect_code(uint64_t code) {
  return code >= 4500 && code <= 4999;
}

// Sleeps for d, in slices, unless a stop signal arrives first (then returns false).
bool sleep_unless_stopped(Millis d) {
  auto deadline = Clock::now() + d;
  while (g_stop == 0) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) {
      return true;
    }
    std::this_thread::sleep_for(std::min(left, kPollSlice));
  }
  return false;
}

// What ended a line, a session or the whole run.
enum class Outcome : uint8_t {
  kContinue,  // keep reading
  kDone,      // --count reached or a signal: exit 0
  kFailed,    // an error reply or a "do not reconnect" code: exit 1
  kLost,      // the connection is gone or must be replaced: reconnect with backoff
};

// One subscriber run: the position it has printed up to survives reconnects.
// Owned by run_subscriber. Thread: the main thread.
class Subscriber {
 public:
  Subscriber(const SubOptions& options, std::vector<std::string> urls,
             client::ConnectionOptions connection)
      : options_(options),
        urls_(std::move(urls)),
        connection_(std::move(connection)),
        rng_(std::random_device{}()) {
    has_position_ = options.has_since;
    offset_ = options.since;
    epoch_ = options.epoch;
  }

  int run() {
    unsigned attempt = 0;
    while (true) {
      subscribed_ = false;
      Outcome outcome = session();
      if (outcome == Outcome::kDone) {
        return 0;
      }
      if (outcome == Outcome::kFailed) {
        return 1;
      }
      const std::string& url = urls_[current_];
      // The next attempt goes to the next server (with one, the same): the one that failed
      // may be gone while the others serve the same channels (several nodes on Redis).
      current_ = (current_ + 1) % urls_.size();
      if (!connected_once_) {
        // A wrong URL or a server that is not there: retrying forever would hide the typo.
        std::string why = lost_reason_;
        for (const std::string& prefix : {"connect to " + url + ": ", url + ": "}) {
          if (why.starts_with(prefix)) {
            why.erase(0, prefix.size());  // the client library repeats the URL
          }
        }
        std::fprintf(stderr, "herald sub: cannot connect to %s: %s\n", url.c_str(), why.c_str());
        if (++never_connected_ < urls_.size()) {
          continue;  // the next server, at once
        }
        return 1;
      }
      if (g_stop != 0) {
        return 0;
      }
      if (subscribed_) {
        attempt = 0;  // the last connection worked: start the backoff over
      }
      std::uniform_real_distribution<double> jitter(0.5, 1.5);
      Millis delay = reconnect_delay(attempt, jitter(rng_));
      attempt = std::min(attempt + 1, 16u);
      std::fprintf(stderr, "herald sub: %s; reconnecting to %s in %.1f s\n", lost_reason_.c_str(),
                   urls_[current_].c_str(), static_cast<double>(delay.count()) / 1000.0);
      if (!sleep_unless_stopped(delay)) {
        return 0;
      }
    }
  }

 private:
  Outcome session() {
    auto connected = client::BlockingClient::connect(urls_[current_], kConnectTimeout, connection_);
    if (!connected) {
      lost_reason_ = connected.error();
      return Outcome::kLost;
    }
    ws_ = std::move(*connected);
    Outcome outcome = converse();
    if (outcome == Outcome::kDone || outcome == Outcome::kFailed) {
      ws_->close(1000);
    }
    ws_.reset();
    return outcome;
  }

  // Sends connect and (history or subscribe) in one frame, then reads until the session ends.
  Outcome converse() {
    pending_.clear();
    ping_seconds_ = kDefaultPingSeconds;
    // protocol 1: the recovery rules below are v1's; another version must refuse us clearly.
    std::string frame =
        "{\"id\":" + std::to_string(kConnectId) +
        ",\"method\":\"connect\",\"params\":{\"name\":\"herald-sub\",\"protocol\":1";
    if (!options_.token.empty()) {
      frame += ",\"token\":";
      protocol::append_json_string(frame, options_.token);
    }
    frame += "}}\n";
    next_id_ = kConnectId + 1;
    history_id_ = 0;
    subscribe_id_ = 0;
    if (has_position_ && epoch_.empty()) {
      history_id_ = next_id_++;
      frame += "{\"id\":" + std::to_string(history_id_) +
               ",\"method\":\"history\",\"params\":{\"channel\":";
      protocol::append_json_string(frame, options_.channel);
      frame += ",\"limit\":0}}";
    } else {
      append_subscribe(frame);
    }
    if (Outcome o = send(frame); o != Outcome::kContinue) {
      return o;
    }
    auto last_heard = Clock::now();
    bool ping_sent = false;
    while (true) {
      if (g_stop != 0) {
        return Outcome::kDone;
      }
      auto received = ws_->receive(kPollSlice);
      if (!received) {
        lost_reason_ = received.error();
        return Outcome::kLost;
      }
      if (!received->has_value()) {
        // Silence: our own ping command gets a reply, so a live connection is never silent
        // for long (the server's ping frames are answered by the library, unseen here).
        auto silent = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - last_heard);
        auto silent_s = static_cast<uint64_t>(silent.count());
        if (silent_s >= ping_seconds_ + kDeadAfterExtraSeconds) {
          lost_reason_ = "nothing heard from the server for " + std::to_string(silent_s) + " s";
          return Outcome::kLost;
        }
        if (silent_s >= ping_seconds_ && !ping_sent) {
          ping_sent = true;
          std::string ping = "{\"id\":" + std::to_string(next_id_++) + ",\"method\":\"ping\"}";
          if (Outcome o = send(ping); o != Outcome::kContinue) {
            return o;
          }
        }
        continue;
      }
      last_heard = Clock::now();
      ping_sent = false;
      if ((*received)->opcode != client::Opcode::kText) {
        continue;  // binary frames are not part of protocol v1
      }
      // A frame may carry several lines (the server batches replies and pushes).
      std::string_view payload = (*received)->payload;
      while (!payload.empty()) {
        size_t end = payload.find('\n');
        std::string_view text = payload.substr(0, end);
        payload = end == std::string_view::npos ? std::string_view() : payload.substr(end + 1);
        if (text.empty() || text == "\r") {
          continue;
        }
        if (Outcome o = on_line(text); o != Outcome::kContinue) {
          return o;
        }
      }
    }
  }

  Outcome send(const std::string& text) {
    auto sent = ws_->send_text(text);
    if (!sent) {
      lost_reason_ = sent.error();
      return Outcome::kLost;
    }
    return Outcome::kContinue;
  }

  void append_subscribe(std::string& frame) {
    subscribe_id_ = next_id_++;
    asked_recovery_ = has_position_;
    frame += "{\"id\":" + std::to_string(subscribe_id_) +
             ",\"method\":\"subscribe\",\"params\":{\"channel\":";
    protocol::append_json_string(frame, options_.channel);
    if (has_position_) {
      frame += ",\"since\":{\"offset\":";
      protocol::append_uint(frame, offset_);
      frame += ",\"epoch\":";
      protocol::append_json_string(frame, epoch_);
      frame += "}";
    }
    frame += "}}";
  }

  Outcome on_line(std::string_view text) {
    if (!parser_.parse(text, line_)) {
      std::fprintf(stderr, "herald sub: ignoring a line the server sent that is not valid: %.*s\n",
                   static_cast<int>(std::min<size_t>(text.size(), 200)), text.data());
      return Outcome::kContinue;
    }
    if (line_.has_id && (line_.has_result || line_.has_error)) {
      return on_reply();
    }
    if (line_.push == "message") {
      if (line_.channel != options_.channel || !line_.has_message || line_.message.data.empty()) {
        return Outcome::kContinue;
      }
      if (!subscribed_) {
        pending_.push_back(line_.message);  // before the subscribe reply: order it after
        return Outcome::kContinue;
      }
      return deliver(line_.message);
    }
    if (line_.push == "disconnect") {
      if (!line_.reconnect || is_no_reconnect_code(line_.code)) {
        std::fprintf(stderr, "herald sub: disconnected by the server: %llu %s\n",
                     static_cast<unsigned long long>(line_.code), line_.reason.c_str());
        return Outcome::kFailed;
      }
      lost_reason_ =
          "the server asked to reconnect (" + std::to_string(line_.code) + " " + line_.reason + ")";
      return Outcome::kLost;
    }
    if (line_.push == "unsubscribe" && line_.channel == options_.channel) {
      if (line_.code >= 2000 && line_.code <= 2499) {
        std::fprintf(stderr,
                     "herald sub: the server ended the subscription (%llu %s); "
                     "subscribing again\n",
                     static_cast<unsigned long long>(line_.code), line_.reason.c_str());
        subscribed_ = false;
        std::string frame;
        append_subscribe(frame);
        return send(frame);
      }
      std::fprintf(stderr, "herald sub: unsubscribed by the server: %llu %s\n",
                   static_cast<unsigned long long>(line_.code), line_.reason.c_str());
      return Outcome::kFailed;
    }
    return Outcome::kContinue;  // join, leave, unknown pushes, replies to our pings
  }

  Outcome on_reply() {
    const char* what = describe_command(line_.id);
    if (line_.has_error) {
      if (line_.error_temporary) {
        lost_reason_ = std::string(what) + " failed: " + std::to_string(line_.error_code) + " " +
                       line_.error_message;
        return Outcome::kLost;
      }
      std::fprintf(stderr, "herald sub: %s failed: error %llu: %s\n", what,
                   static_cast<unsigned long long>(line_.error_code), line_.error_message.c_str());
      return Outcome::kFailed;
    }
    if (line_.id == kConnectId) {
      // A Herald server answered: from now on a lost connection is retried. (Over tcp:// the
      // socket opens with the TCP connect, so a port that is not herald's must fail here.)
      connected_once_ = true;
      if (line_.ping > 0) {
        ping_seconds_ = line_.ping;
      }
      return Outcome::kContinue;
    }
    if (history_id_ != 0 && line_.id == history_id_) {
      epoch_ = line_.epoch;
      std::string frame;
      append_subscribe(frame);
      return send(frame);
    }
    if (subscribe_id_ != 0 && line_.id == subscribe_id_) {
      return on_subscribed();
    }
    return Outcome::kContinue;
  }

  const char* describe_command(uint64_t id) const {
    if (id == kConnectId) {
      return "connect";
    }
    if (id != 0 && id == history_id_) {
      return "history";
    }
    if (id != 0 && id == subscribe_id_) {
      return "subscribe";
    }
    return "a command";
  }

  Outcome on_subscribed() {
    subscribed_ = true;
    if (line_.recovered) {
      for (size_t i = 0; i < line_.publication_count; ++i) {
        if (Outcome o = deliver(line_.publications[i]); o != Outcome::kContinue) {
          return o;
        }
      }
      if (reconnected_) {
        std::fprintf(stderr, "herald sub: reconnected; resumed after offset %llu of epoch %s\n",
                     static_cast<unsigned long long>(offset_), epoch_.c_str());
      }
    } else if (asked_recovery_) {
      std::fprintf(stderr, "herald sub: position lost, continuing from offset %llu of epoch %s\n",
                   static_cast<unsigned long long>(line_.offset), line_.epoch.c_str());
    }
    // Live pushes continue from the channel's top in any case.
    has_position_ = true;
    offset_ = line_.offset;
    epoch_ = line_.epoch;
    reconnected_ = true;  // every later subscribe is a resumption
    std::vector<Publication> early;
    early.swap(pending_);
    for (const Publication& pub : early) {
      if (Outcome o = deliver(pub); o != Outcome::kContinue) {
        return o;
      }
    }
    return Outcome::kContinue;
  }

  // Prints pub unless it is at or before the position already printed; tracks the position.
  Outcome deliver(const Publication& pub) {
    if (has_position_ && pub.epoch == epoch_) {
      if (pub.offset <= offset_) {
        return Outcome::kContinue;
      }
      if (pub.offset > offset_ + 1) {
        std::fprintf(stderr, "herald sub: offsets %llu..%llu of epoch %s were not received\n",
                     static_cast<unsigned long long>(offset_ + 1),
                     static_cast<unsigned long long>(pub.offset - 1), epoch_.c_str());
      }
    } else if (has_position_) {
      std::fprintf(stderr, "herald sub: the channel's epoch changed from %s to %s\n",
                   epoch_.c_str(), pub.epoch.c_str());
    }
    out_.assign("{\"channel\":");
    protocol::append_json_string(out_, options_.channel);
    out_ += ",\"offset\":";
    protocol::append_uint(out_, pub.offset);
    out_ += ",\"epoch\":";
    protocol::append_json_string(out_, pub.epoch);
    out_ += ",\"data\":";
    out_ += pub.data;
    if (!pub.info.empty()) {
      out_ += ",\"info\":";
      out_ += pub.info;
    }
    out_ += "}\n";
    // Flushed per line so that a pipe (`herald sub ch | jq`) sees each message when it comes.
    if (std::fwrite(out_.data(), 1, out_.size(), stdout) != out_.size() ||
        std::fflush(stdout) != 0) {
      std::fprintf(stderr, "herald sub: cannot write to stdout\n");
      return Outcome::kFailed;
    }
    has_position_ = true;
    offset_ = pub.offset;
    epoch_ = pub.epoch;
    ++printed_;
    if (options_.count > 0 && printed_ >= options_.count) {
      return Outcome::kDone;
    }
    return Outcome::kContinue;
  }

  const SubOptions& options_;
  const std::vector<std::string> urls_;  // --server, in order; never empty
  size_t current_ = 0;                    // the one the session (or next attempt) uses
  size_t never_connected_ = 0;            // servers tried before any answered
  const client::ConnectionOptions connection_;  // the TLS context, made once
  std::mt19937 rng_;
  std::unique_ptr<client::BlockingClient> ws_;
  ServerLineParser parser_;
  ServerLine line_;
  std::string out_;                   // the stdout line being built
  std::vector<Publication> pending_;  // message pushes that came before the subscribe reply

  // The position printed up to (or given by --since, or the channel's top when subscribed).
  bool has_position_ = false;
  uint64_t offset_ = 0;
  std::string epoch_;
  uint64_t printed_ = 0;

  bool connected_once_ = false;  // a connect reply has been received
  bool subscribed_ = false;      // in the current session
  bool reconnected_ = false;     // a subscribe has succeeded before
  bool asked_recovery_ = false;  // the subscribe in flight carries `since`
  uint64_t ping_seconds_ = kDefaultPingSeconds;
  uint64_t next_id_ = 2;
  uint64_t history_id_ = 0;
  uint64_t subscribe_id_ = 0;
  std::string lost_reason_;
};

}  // namespace

Result<std::string> subscriber_url(std::string_view server) {
  std::string_view rest = server;
  std::string url;
  if (rest.starts_with("tcp://") || rest.starts_with("tls://")) {
    client::ServerUrl parsed;
    client::UrlError err = client::parse_server_url(rest, parsed);
    if (err != client::UrlError::kNone) {
      return Error{std::string(server) + ": " + std::string(client::to_string(err))};
    }
    return std::string(server);
  }
  if (rest.starts_with("http://") || rest.starts_with("ws://")) {
    rest.remove_prefix(rest.find("://") + 3);
    url = "ws://";
  } else if (rest.starts_with("https://") || rest.starts_with("wss://")) {
    rest.remove_prefix(rest.find("://") + 3);
    url = "wss://";
  } else if (rest.find("://") != std::string_view::npos) {
    return Error{std::string(server) +
                 ": expected http[s]://HOST:PORT, ws[s]://HOST:PORT, tcp://HOST:PORT or "
                 "tls://HOST:PORT"};
  } else {
    url = "ws://";
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  url += authority;
  url += path;
  if (!path.ends_with(kEndpoint)) {
    url += kEndpoint;
  }
  return url;
}

Millis reconnect_delay(unsigned attempt, double jitter) {
  constexpr int64_t kFirstMs = 500;
  constexpr int64_t kMaxMs = 20000;
  int64_t base = kFirstMs << std::min(attempt, 6u);  // 32 s before the cap: enough doublings
  base = std::min(base, kMaxMs);
  jitter = std::clamp(jitter, 0.5, 1.5);
  return Millis(static_cast<int64_t>(static_cast<double>(base) * jitter));
}

int run_subscriber(const SubOptions& options) {
  std::vector<std::string> urls;
  bool tls_needed = false;
  for (const std::string& server : options.servers) {
    auto url = subscriber_url(server);
    if (!url) {
      std::fprintf(stderr, "herald sub: %s\n", url.error().c_str());
      return 1;
    }
    tls_needed = tls_needed || url->starts_with("wss://") || url->starts_with("tls://");
    urls.push_back(std::move(*url));
  }
  if (urls.empty()) {
    urls.push_back(*subscriber_url(kDefaultServer));
  }
  client::ConnectionOptions connection;
  if (tls_needed) {
    // One context for every reconnect: the trust store is read once.
    client::TlsOptions tls;
    tls.ca_file = options.ca_file;
    tls.verify = !options.insecure_skip_tls_verify;
    auto ctx = client::TlsClientContext::create(tls);
    if (!ctx) {
      std::fprintf(stderr, "herald sub: %s\n", ctx.error().c_str());
      return 1;
    }
    if (!tls.verify) {
      std::fprintf(stderr,
                   "herald sub: warning: --insecure-skip-tls-verify: the server's certificate "
                   "is not checked\n");
    }
    connection.tls = *ctx;
  }
  // No SA_RESTART: the signal interrupts epoll_wait and the loop sees g_stop within a slice.
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {};
  struct sigaction old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  g_stop = 0;
  int code = Subscriber(options, std::move(urls), std::move(connection)).run();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return code;
}

void register_sub_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SubOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sub", "print CHANNEL's publications as they come, one JSON per line (WebSocket or TCP)");
  cmd->add_option("channel", o->channel, "channel name")->required();
  CLI::Option* since =
      cmd->add_option("--since", o->since, "recover the publications after this offset first");
  cmd->add_option("--epoch", o->epoch, "the epoch --since belongs to (default: the current one)")
      ->needs(since);
  cmd->add_option("--count", o->count, "exit after printing this many publications");
  cmd->add_option("--server", o->servers,
                  "server URL: http[s]:// or ws[s]:// (WebSocket), tcp:// or tls:// (the raw TCP "
                  "port of herald serve --tcp-listen); repeat it for the nodes of a cluster: a "
                  "lost connection resumes on the next one (default " +
                      std::string(kDefaultServer) + ")")
      ->allow_extra_args(false);  // one URL per --server: "--server URL CHANNEL" stays clear
  cmd->add_option("--ca-file", o->ca_file,
                  "TLS: PEM certificates to trust (default: the system's store)");
  cmd->add_flag("--insecure-skip-tls-verify", o->insecure_skip_tls_verify,
                "TLS: accept any certificate for any host (INSECURE: anyone on the path can read "
                "and change the stream)");
  cmd->add_option("--token", o->token, "connection token (JWT; default: $HERALD_TOKEN)");
  cmd->callback([o, since, &exit_code] {
    o->has_since = since->count() > 0;
    if (o->token.empty()) {
      const char* env = std::getenv("HERALD_TOKEN");
      o->token = env != nullptr ? env : "";
    }
    exit_code = run_subscriber(*o);
  });
}

}  // namespace herald::app
