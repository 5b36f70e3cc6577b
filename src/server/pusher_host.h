#pragma once
// The server's side of the Pusher layer: pusher::Host over a LoopContext (its hub, its loop, the
// other loops' endpoints), and what Server::start builds for the Pusher apps (their Herald
// namespaces, one endpoint per loop). Thread: start-up, then each loop's own.

#include <map>
#include <memory>
#include <string>

#include "herald/namespace_options.h"
#include "pusher/apps.h"
#include "pusher/endpoint.h"

namespace herald::server {

class Cluster;
class LoopContext;

// The app namespaces that the configuration does not name, with Apps::namespace_options(app).
std::map<std::string, NamespaceOptions, std::less<>> pusher_namespaces(
    const pusher::Apps& apps, const std::map<std::string, NamespaceOptions, std::less<>>& named);

std::unique_ptr<pusher::Endpoint> make_pusher_endpoint(const pusher::Apps& apps, LoopContext& ctx);

// With several nodes: this node answers the Pusher REST API's questions of the others
// (pusher/rest_nodes.h: subscriber counts, terminate_connections).
void register_pusher_cluster(Cluster& cluster);

}  // namespace herald::server
