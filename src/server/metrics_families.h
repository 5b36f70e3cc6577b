#pragma once
// The /metrics families that are more than one summed counter: client connections by transport
// and end reason, messages and bytes by transport, the latency histograms (merged over loops),
// per-loop figures (connections, lag), the store, the build. docs/OPERATIONS.md lists every
// metric with its meaning; keep the two together. Thread: the scraping thread (reads counters
// that loops write; see base/counter.h).

#include <string>
#include <vector>

#include "server/metrics.h"

namespace herald::server {

// The transport layer's samples of herald_limit_refusals_total (its family header is already
// written): max_connections, max_message_size, request_head, max_output_bytes.
void render_transport_limits(std::string& out,
                             const std::vector<const transport::TransportMetrics*>& transports);

// Every other family built on the loops' counters and histograms, the loop samples and the store.
void render_families(std::string& out, const MetricsSources& sources);

}  // namespace herald::server
