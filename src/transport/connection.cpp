#include "transport/connection.h"

#include <arpa/inet.h>

#include <cstring>

#include "net/listener.h"
#include "transport/loop_services.h"

namespace herald::transport {

Connection::Connection(LoopServices& services, int fd, const sockaddr_storage& peer, uint64_t id)
    : net::Stream(services.loop, fd, services.options.max_output_bytes),
      services_(&services),
      id_(id),
      opened_ms32_(static_cast<uint32_t>(services.loop.now_ms())) {
  std::memcpy(&peer_, &peer, sizeof(peer_));
}

Connection::~Connection() = default;

void Connection::become(std::unique_ptr<Mode> mode) {
  retired_ = std::move(mode_);
  mode_ = std::move(mode);
}

size_t Connection::on_data(uint8_t* data, size_t size) {
  size_t used = mode_->on_data(data, size);
  retired_.reset();
  return used;
}

void Connection::on_timeout() {
  mode_->on_timeout();
  retired_.reset();
}

void Connection::on_tls_handshake() { services_->transport_metrics.tls_handshakes.add(); }

void Connection::on_closed(net::CloseReason reason) {
  services_->transport_metrics.connections_closed[static_cast<size_t>(reason)].add();
  if (reason == net::CloseReason::kTlsError) {
    if (tls_handshake_pending()) {
      services_->transport_metrics.tls_handshake_errors.add();
    } else {
      services_->transport_metrics.tls_errors.add();
    }
  }
  mode_->on_closed(reason);
  retired_.reset();
  services_->remove_connection(this);
}

std::string_view Connection::remote_address() const {
  thread_local std::string text;
  sockaddr_storage ss{};
  std::memcpy(&ss, &peer_, sizeof(peer_));
  text = net::format_endpoint(ss);
  return text;
}

std::array<uint8_t, 16> Connection::peer_ip() const {
  sockaddr_storage ss{};
  std::memcpy(&ss, &peer_, sizeof(peer_));
  return ip_bytes(ss);
}

std::array<uint8_t, 16> ip_bytes(const sockaddr_storage& peer) {
  std::array<uint8_t, 16> ip{};
  if (peer.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
    ip[10] = 0xff;
    ip[11] = 0xff;
    std::memcpy(ip.data() + 12, &v4->sin_addr, 4);
  } else if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    std::memcpy(ip.data(), &v6->sin6_addr, 16);
  }
  return ip;
}

bool Connection::peer_is_loopback() const {
  if (peer_.sin6_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer_);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  static const in6_addr kLoopback6 = IN6ADDR_LOOPBACK_INIT;
  return std::memcmp(&peer_.sin6_addr, &kLoopback6, sizeof(kLoopback6)) == 0;
}

}  // namespace herald::transport
