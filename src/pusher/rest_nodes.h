#pragma once
// The REST API's questions that span the whole server: a channel's subscriber counts and the
// termination of a user's connections, asked of every loop of this node and, with several nodes
// on Redis, of every other node (Host::ask_other_nodes; node topics "pusher.counts" and
// "pusher.terminate", answered by answer_node_question on the other node's loop 0). A node that
// does not answer within the cluster's timeout is left out, as for the Herald protocol's
// `channels` and `disconnect`. Thread: the origin endpoint's loop (done runs on it).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace herald::pusher {

class Endpoint;
struct App;

// Herald channel name -> subscribers (Pusher and Herald-protocol clients, not rosters).
using Counts = std::unordered_map<std::string, size_t>;

// The app's channels with subscribers, over every loop and node.
void all_subscriber_counts(Endpoint& origin, const App& app, std::function<void(Counts)> done);

// Closes every connection of signed-in `user` of the app on every loop and node; done(closed).
void all_terminate(Endpoint& origin, const App& app, std::string user,
                   std::function<void(size_t)> done);

// The node topics of the questions below, for the server to route to answer_node_question.
inline constexpr std::string_view kNodeTopics[] = {"pusher.counts", "pusher.terminate"};

// On another node: answers one of the topics above (answer runs once, on loop0's loop).
// False for a topic that is not ours.
bool answer_node_question(Endpoint& loop0, std::string_view topic, std::string_view body,
                          std::function<void(std::string)> answer);

}  // namespace herald::pusher
