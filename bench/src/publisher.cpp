#include "publisher.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "herald_wire.h"

namespace herald::bench {
namespace {

// The id of the ws publisher's connect command; publish ids are slot + 1, far below it.
constexpr uint32_t kConnectId = 4000000000u;
constexpr double kCloseTimeoutS = 1.0;

// The run's WebSocket options (its TLS context too), with room for a deep pipeline.
client::ConnectionOptions ws_options(const Shared& shared) {
  client::ConnectionOptions c = shared.link.ws_options;
  c.validate_utf8 = false;  // replies only; their JSON is checked by the line parser
  c.max_output_bytes = 16u << 20;
  return c;
}

}  // namespace

Publisher::Publisher(Shared& shared, std::vector<std::string> channels,
                     const std::vector<std::atomic<uint32_t>>& subscribers)
    : shared_(shared),
      o_(*shared.options),
      channels_(std::move(channels)),
      subscribers_(subscribers),
      next_seq_(channels_.size(), 0),
      data_(make_data_body(o_.size)),
      rate_(o_.rate) {
  stats.accepted_per_channel.assign(channels_.size(), 0);
  size_t slots = static_cast<size_t>(o_.pipeline) *
                 (o_.publish_via == PublishVia::kApi ? static_cast<size_t>(o_.api_connections) : 1);
  slots_.resize(slots);
  free_slots_.reserve(slots);
  for (size_t i = slots; i > 0; --i) {
    free_slots_.push_back(static_cast<uint32_t>(i - 1));
  }
}

Publisher::~Publisher() = default;

bool Publisher::connect() {
  if (o_.publish_via == PublishVia::kApi) {
    if (shared_.publish_url.tls()) {
      shared_.set_first_error(
          "publisher: the server API client speaks plain HTTP; against a TLS "
          "server use --publish ws");
      return false;
    }
    auto r = api_.open(shared_.publish_endpoint, o_.api_connections,
                       shared_.publish_url.host_header(), o_.api_key);
    if (!r) {
      shared_.set_first_error("publisher: " + r.error());
      return false;
    }
    return true;
  }
  client::ConnectionHandler& handler = *this;  // a private base: convert here, not in make_unique
  ws_ = std::make_unique<client::Connection>(loop_, handler, ws_options(shared_));
  if (!ws_->start(shared_.publish_endpoint, shared_.publish_url)) {
    shared_.set_first_error("publisher: cannot connect");
    return false;
  }
  return true;
}

void Publisher::run() {
  dead_ = !connect();
  bool announced = false;
  while (true) {
    auto phase = static_cast<Phase>(shared_.phase.load(std::memory_order_acquire));
    if (phase == Phase::kClose) {
      break;
    }
    uint64_t now = now_ns();
    if (!announced && (dead_ || o_.publish_via == PublishVia::kApi || ws_connected_)) {
      announced = true;
      shared_.aux_ready.store(true, std::memory_order_release);
    }
    int timeout = 10;
    if (phase == Phase::kMeasure && !dead_) {
      if (start_ns_ == 0) {
        start_ns_ = now;
      }
      publish_due(now);
      timeout = wait_ms(now);
    }
    if (o_.publish_via == PublishVia::kApi && !dead_) {
      api_.poll(timeout, *this);
      if (!api_.any_usable()) {
        shared_.set_first_error("publisher: " + api_.first_error());
        dead_ = true;
      }
    } else if (ws_ != nullptr && !dead_) {
      loop_.run_once(timeout);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout));
    }
    report_progress();
  }
  if (ws_ != nullptr && ws_->is_open()) {
    ws_->close(1000, "bench done");
    uint64_t deadline = now_ns() + static_cast<uint64_t>(kCloseTimeoutS * 1e9);
    while (ws_->state() != client::Connection::State::kClosed && now_ns() < deadline) {
      loop_.run_once(10);
    }
  }
  if (ws_ != nullptr) {
    ws_->abort();
  }
  report_progress();
}

void Publisher::publish_due(uint64_t now) {
  if (rate_ <= 0 || channels_.empty()) {
    return;
  }
  auto due = static_cast<uint64_t>(static_cast<double>(now - start_ns_) * rate_ / 1e9);
  // Behind schedule (descheduled, or the server is not reading): skip rather than burst, and
  // say so, so that the offered rate in the report is what was really offered.
  auto max_burst = static_cast<uint64_t>(rate_ / 10) + 1;
  if (due > scheduled_ + max_burst) {
    stats.skipped += due - scheduled_ - max_burst;
    scheduled_ = due - max_burst;
  }
  while (scheduled_ < due) {
    ++scheduled_;
    uint32_t channel = rr_;
    rr_ = rr_ + 1 == channels_.size() ? 0 : rr_ + 1;
    if (!publish_one(channel, now_ns())) {
      ++stats.skipped;
    }
  }
}

bool Publisher::publish_one(uint32_t channel, uint64_t now) {
  if (free_slots_.empty()) {
    return false;
  }
  uint32_t slot = free_slots_.back();
  write_stamp(data_.data(), Stamp{next_seq_[channel], now});
  request_.clear();
  if (o_.publish_via == PublishVia::kApi) {
    int conn = static_cast<int>(channel % static_cast<uint32_t>(api_.connections()));
    if (!api_.usable(conn) || api_.in_flight(conn) >= static_cast<size_t>(o_.pipeline)) {
      return false;
    }
    append_api_publish(request_, channels_[channel], data_);
    api_.post(conn, "/api/publish", request_, slot);
  } else {
    append_publish(request_, slot + 1, channels_[channel], data_);
    if (!ws_->send_text(request_)) {
      return false;
    }
  }
  free_slots_.pop_back();
  slots_[slot] = Pending{channel, now, true};
  ++next_seq_[channel];
  ++stats.sent;
  return true;
}

int Publisher::wait_ms(uint64_t now) const {
  if (rate_ <= 0) {
    return 50;
  }
  double next = static_cast<double>(start_ns_) + static_cast<double>(scheduled_ + 1) * 1e9 / rate_;
  double wait = std::ceil((next - static_cast<double>(now)) / 1e6);
  return static_cast<int>(std::clamp(wait, 0.0, 50.0));
}

void Publisher::answered(uint64_t slot, bool ok, uint64_t error_code, std::string_view what) {
  if (slot >= slots_.size() || !slots_[slot].in_use) {
    shared_.set_first_error("publisher: an answer to no request in flight: " +
                            std::string(what.substr(0, 200)));
    return;
  }
  Pending& p = slots_[slot];
  uint64_t now = now_ns();
  stats.reply_latency.record(now > p.sent_ns ? now - p.sent_ns : 0);
  if (ok) {
    ++stats.accepted;
    ++stats.accepted_per_channel[p.channel];
    shared_.aux_expected.fetch_add(subscribers_[p.channel].load(std::memory_order_relaxed),
                                   std::memory_order_relaxed);
  } else {
    ++stats.rejected;
    if (stats.first_error.empty()) {
      stats.first_error_code = error_code;
      stats.first_error = std::string(what.substr(0, 300));
    }
  }
  p.in_use = false;
  free_slots_.push_back(static_cast<uint32_t>(slot));
}

void Publisher::report_progress() {
  shared_.aux_sent.store(stats.sent, std::memory_order_relaxed);
  uint64_t answered = stats.accepted + stats.rejected + stats.failed;
  shared_.aux_outstanding.store(static_cast<int64_t>(stats.sent - answered),
                                std::memory_order_relaxed);
}

void Publisher::on_api_response(uint64_t tag, int status, std::string_view body) {
  uint64_t code = 0;
  if (status != 200) {
    JsonValue v;
    if (parse_value(body, &v) == JsonError::kNone && v.type == JsonType::kObject) {
      for_each_member(v, [&](std::string_view key, const JsonValue& err) {
        if (key == "error" && err.type == JsonType::kObject) {
          for_each_member(err, [&](std::string_view k, const JsonValue& c) {
            if (k == "code") {
              c.to_u64(&code);
            }
            return true;
          });
        }
        return true;
      });
    }
  }
  answered(tag, status == 200, code,
           status == 200 ? body : "HTTP " + std::to_string(status) + " " + std::string(body));
}

void Publisher::on_api_failure(uint64_t tag, std::string_view what) {
  if (tag < slots_.size() && slots_[tag].in_use) {
    slots_[tag].in_use = false;
    free_slots_.push_back(static_cast<uint32_t>(tag));
  }
  ++stats.failed;
  if (stats.first_error.empty()) {
    stats.first_error = std::string(what);
  }
}

void Publisher::on_open(client::Connection& conn) {
  request_.clear();
  append_connect(request_, kConnectId);
  conn.send_text(request_);
}

void Publisher::on_message(client::Connection& conn, client::Opcode opcode,
                           std::string_view payload) {
  (void)conn;
  (void)opcode;
  for_each_line(payload, [&](std::string_view line) {
    ServerLine l;
    if (JsonError e = parse_server_line(line, &l); e != JsonError::kNone) {
      shared_.set_first_error("publisher: " + std::string(to_string(e)) + ": " +
                              std::string(line.substr(0, 200)));
      return;
    }
    if (l.kind != ServerLine::Kind::kReply) {
      return;  // pushes: the publisher subscribes to nothing, so none are expected
    }
    if (l.id == kConnectId) {
      if (l.is_error) {
        shared_.set_first_error("publisher: connect refused: " + std::string(line.substr(0, 200)));
        dead_ = true;
      } else {
        ws_connected_ = true;
      }
      return;
    }
    answered(l.id - 1, !l.is_error, l.error_code, line);
  });
}

void Publisher::on_close(client::Connection& conn, const client::CloseInfo& info) {
  (void)conn;
  if (shared_.phase.load(std::memory_order_acquire) != static_cast<int>(Phase::kClose)) {
    shared_.set_first_error("publisher: connection ended: " + info.describe());
  }
  dead_ = true;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].in_use) {
      slots_[i].in_use = false;
      free_slots_.push_back(static_cast<uint32_t>(i));
      ++stats.failed;
    }
  }
}

}  // namespace herald::bench
