#pragma once
// The publisher of `herald bench fanout|channels`: a thread of its own beside the subscriber
// workers that publishes --rate messages/s, round-robin over the channels, either through the
// server API (POST /api/publish on --api-connections keep-alive connections, requests
// pipelined) or as one Herald protocol client on /connection/websocket (like a /chat sender).
// Each message carries a stamp (per-channel sequence number and send time) in its data.
// Every channel is published to through one connection only, so the server sees each
// channel's messages in sequence order and a subscriber can tell a loss from a reordering.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api_client.h"
#include "herald/client/connection.h"
#include "herald/client/loop.h"
#include "histogram.h"
#include "runner.h"

namespace herald::bench {

// What the publisher did; read by the main thread after the thread has been joined.
struct PublisherStats {
  uint64_t sent = 0;      // publish requests written
  uint64_t accepted = 0;  // answered with a result
  uint64_t rejected = 0;  // answered with an error
  uint64_t failed = 0;    // never answered (the connection failed)
  uint64_t skipped = 0;   // due but not sent: behind schedule, or --pipeline requests in flight
  uint64_t first_error_code = 0;
  std::string first_error;         // the first rejection or failure, for the report
  LatencyHistogram reply_latency;  // publish written -> its answer read
  std::vector<uint64_t> accepted_per_channel;
};

// Thread: constructed by the main thread, then used only by the thread running run().
class Publisher : private ApiHandler, private client::ConnectionHandler {
 public:
  // subscribers[i]: how many subscribers channel i has now (kept by the workers); each accepted
  // publish adds that many to Shared::aux_expected.
  Publisher(Shared& shared, std::vector<std::string> channels,
            const std::vector<std::atomic<uint32_t>>& subscribers);
  ~Publisher() override;

  // Connects, then publishes during Phase::kMeasure and reads answers until Phase::kClose.
  void run();

  PublisherStats stats;

 private:
  struct Pending {
    uint32_t channel = 0;
    uint64_t sent_ns = 0;
    bool in_use = false;
  };

  bool connect();
  void publish_due(uint64_t now);
  bool publish_one(uint32_t channel, uint64_t now);
  int wait_ms(uint64_t now) const;
  void answered(uint64_t slot, bool ok, uint64_t error_code, std::string_view what);
  void report_progress();

  // ApiHandler
  void on_api_response(uint64_t tag, int status, std::string_view body) override;
  void on_api_failure(uint64_t tag, std::string_view what) override;
  // client::ConnectionHandler (the ws publisher)
  void on_open(client::Connection& conn) override;
  void on_message(client::Connection& conn, client::Opcode opcode,
                  std::string_view payload) override;
  void on_close(client::Connection& conn, const client::CloseInfo& info) override;

  Shared& shared_;
  const BenchOptions& o_;
  std::vector<std::string> channels_;
  const std::vector<std::atomic<uint32_t>>& subscribers_;
  std::vector<uint64_t> next_seq_;  // per channel
  std::string data_;                // the data string's body, stamp rewritten per message
  std::string request_;             // the command or body being built

  // Requests in flight: the slot number is the API tag, and the command id - 1 on ws.
  std::vector<Pending> slots_;
  std::vector<uint32_t> free_slots_;

  ApiClient api_;
  client::Loop loop_;
  std::unique_ptr<client::Connection> ws_;
  bool ws_connected_ = false;  // the connect command was answered
  bool dead_ = false;          // cannot publish any more

  double rate_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t scheduled_ = 0;
  uint32_t rr_ = 0;
};

}  // namespace herald::bench
