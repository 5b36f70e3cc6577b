#include "server/loop_context.h"

#include <cassert>

#include "server/connection.h"

namespace herald::server {
namespace {

thread_local LoopContext* t_current_loop = nullptr;

}  // namespace

LoopContext* current_loop() { return t_current_loop; }
void set_current_loop(LoopContext* ctx) { t_current_loop = ctx; }

LoopContext::LoopContext(int index, ServerCore& server_core) : loop(index), core(server_core) {}

LoopContext::~LoopContext() = default;

ws::Deflater& LoopContext::deflater(int window_bits) {
  std::unique_ptr<ws::Deflater>& d = deflaters_[window_bits & 15];
  if (!d) {
    d = std::make_unique<ws::Deflater>(window_bits, core.deflate.level, core.deflate.mem_level);
  }
  return *d;
}

ws::Inflater& LoopContext::shared_inflater(const ws::DeflateParams& params) {
  std::unique_ptr<ws::Inflater>& i = inflaters_[params.client_max_window_bits & 15];
  if (!i) {
    i = std::make_unique<ws::Inflater>(params, core.options.max_message_size);
  }
  return *i;
}

std::unique_ptr<http::RequestParser> LoopContext::acquire_parser() {
  if (parser_pool_.empty()) {
    return std::make_unique<http::RequestParser>(core.http_limits);
  }
  std::unique_ptr<http::RequestParser> p = std::move(parser_pool_.back());
  parser_pool_.pop_back();
  p->reset();
  return p;
}

void LoopContext::release_parser(std::unique_ptr<http::RequestParser> parser) {
  constexpr size_t kMaxPooled = 16;  // bounds the pool (1.7 KiB each) after a connection storm
  if (parser && parser_pool_.size() < kMaxPooled) {
    parser_pool_.push_back(std::move(parser));
  }
}

void LoopContext::deliver(const Publication& pub) {
  // Connection::deliver never closes or unsubscribes synchronously (an over-full queue closes at
  // the end of the iteration), so the subscriber list is stable during this walk.
  topics.deliver(pub);
}

void LoopContext::add_connection(Connection* c) {
  c->next = first_connection;
  if (first_connection != nullptr) {
    first_connection->prev = c;
  }
  first_connection = c;
  ++connection_count;
  metrics.connections_open.add();
}

void LoopContext::remove_connection(Connection* c) {
  if (c->prev != nullptr) {
    c->prev->next = c->next;
  } else {
    first_connection = c->next;
  }
  if (c->next != nullptr) {
    c->next->prev = c->prev;
  }
  c->prev = c->next = nullptr;
  --connection_count;
  core.open_connections.fetch_sub(1, std::memory_order_relaxed);
  metrics.connections_open.sub();
  if (draining && connection_count == 0) {
    loop.stop();
  }
}

void LoopContext::begin_drain() {
  draining = true;
  if (listener) {
    listener->close();
  }
  for (Connection* c = first_connection; c != nullptr;) {
    Connection* next = c->next;  // drain() may close c, which unlinks it
    c->drain();
    c = next;
  }
  if (connection_count == 0) {
    loop.stop();
  }
}

void ServerCore::publish(const std::shared_ptr<Publication>& pub) {
  LoopContext* here = current_loop();
  for (const auto& ctx : loops) {
    if (ctx.get() == here) {
      ctx->deliver(*pub);
    } else {
      LoopContext* target = ctx.get();
      target->loop.post([target, pub] { target->deliver(*pub); });
    }
  }
}

std::string ServerCore::metrics_text() const {
  std::vector<const LoopMetrics*> all;
  all.reserve(loops.size());
  for (const auto& ctx : loops) {
    all.push_back(&ctx->metrics);
  }
  return render_prometheus(all);
}

}  // namespace herald::server
