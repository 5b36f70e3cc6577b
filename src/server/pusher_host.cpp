#include "server/pusher_host.h"

#include "pusher/rest_nodes.h"
#include "pusher/webhooks.h"
#include "server/cluster.h"
#include "server/loop_context.h"

namespace herald::server {
namespace {

class PusherHost final : public pusher::Host {
 public:
  explicit PusherHost(LoopContext& ctx) : ctx_(ctx) {}
  hub::Hub& hub() override { return *ctx_.hub; }
  net::EventLoop& loop() override { return ctx_.loop; }
  size_t max_subscriptions() const override { return ctx_.core.options.max_subscriptions; }
  int loop_count() const override { return static_cast<int>(ctx_.core.loops.size()); }
  const ServerOptions& options() const override { return ctx_.core.options; }
  uint64_t new_client_id() override { return ctx_.new_client_id(); }
  pusher::Endpoint& endpoint_at(int i) override {
    return *ctx_.core.loops[static_cast<size_t>(i)]->pusher;
  }
  pusher::Webhooks* webhooks() override { return ctx_.core.webhooks.get(); }
  void ask_other_nodes(std::string_view topic, std::string body,
                       std::function<void(std::vector<std::string>)> done) override {
    if (!ctx_.core.cluster) {
      done({});
      return;
    }
    ctx_.core.cluster->ask_all(ctx_, topic, std::move(body),
                               [done = std::move(done)](std::vector<Cluster::Reply> replies) {
                                 std::vector<std::string> bodies;
                                 bodies.reserve(replies.size());
                                 for (Cluster::Reply& r : replies) {
                                   bodies.push_back(std::move(r.body));
                                 }
                                 done(std::move(bodies));
                               });
  }
  void post_to(int i, std::function<void(pusher::Endpoint&)> fn) override {
    LoopContext* target = ctx_.core.loops[static_cast<size_t>(i)].get();
    target->loop.post([target, fn = std::move(fn)] {
      if (target->pusher) {
        fn(*target->pusher);
      }
    });
  }

 private:
  LoopContext& ctx_;
};

}  // namespace

std::map<std::string, NamespaceOptions, std::less<>> pusher_namespaces(
    const pusher::Apps& apps, const std::map<std::string, NamespaceOptions, std::less<>>& named) {
  std::map<std::string, NamespaceOptions, std::less<>> out;
  for (const auto& app : apps.all()) {
    if (named.find(app->ns) == named.end()) {
      out.emplace(app->ns, pusher::Apps::namespace_options(app->options));
    }
  }
  return out;
}

std::unique_ptr<pusher::Endpoint> make_pusher_endpoint(const pusher::Apps& apps, LoopContext& ctx) {
  return std::make_unique<pusher::Endpoint>(apps, std::make_unique<PusherHost>(ctx));
}

void register_pusher_cluster(Cluster& cluster) {
  for (std::string_view topic : pusher::kNodeTopics) {
    cluster.handle(std::string(topic), [topic](LoopContext& loop0, std::string_view,
                                               std::string_view body, Cluster::Answer answer) {
      if (!loop0.pusher || !pusher::answer_node_question(*loop0.pusher, topic, body, answer)) {
        answer({});
      }
    });
  }
}

}  // namespace herald::server
