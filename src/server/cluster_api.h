#pragma once
// The server API's server-wide methods over every node: `channels`, `info` and `disconnect` ask
// this node's loops (on_every_loop) and, with several nodes, every other node through the
// Cluster (topics "channels", "info", "disconnect"), and merge the answers. A node that does not
// answer within the cluster's timeout is left out of the sum (it is dying or gone).
// Thread: a loop thread (done runs on it).

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <unordered_set>

namespace herald::server {

class Cluster;
class LoopContext;

// Channels with subscribers matching pattern ("" any) -> subscribers, over every node.
void all_channels(LoopContext& ctx, std::string pattern,
                  std::function<void(std::map<std::string, size_t>)> done);

struct InfoTotals {
  size_t nodes = 1;
  size_t clients = 0;
  std::unordered_set<std::string> users;
  std::unordered_set<std::string> channels;
};
void all_info(LoopContext& ctx, std::function<void(InfoTotals)> done);

// Disconnects every connection of user on every node (4503); done(connections closed).
void all_disconnect(LoopContext& ctx, std::string user, std::function<void(size_t)> done);

// Registers the answers of this node to the questions above.
void register_cluster_api(Cluster& cluster);
// Registers the running of relayed session requests (cluster_sessions.cpp).
void register_cluster_sessions(Cluster& cluster);

}  // namespace herald::server
