#pragma once
// Namespaces: the options of each channel, by the part of its name before the first ':'.
// Built once from the configuration and read-only afterwards. Thread: any.

#include <map>
#include <string>
#include <string_view>

#include "herald/namespace_options.h"
#include "broker/broker.h"

namespace herald::hub {

class Namespaces {
 public:
  // Every channel gets the default options.
  Namespaces() = default;
  // named empty: every namespace gets default_ns; otherwise only the listed namespaces exist.
  Namespaces(NamespaceOptions default_ns, std::map<std::string, NamespaceOptions, std::less<>> named)
      : default_(default_ns), named_(std::move(named)), open_(named_.empty()) {}
  // Plus namespaces that exist beside the configured ones without closing the others (the
  // Pusher apps' namespaces): with no named namespace every other one still gets default_ns.
  // A name already in `named` keeps its configured options.
  Namespaces(NamespaceOptions default_ns, std::map<std::string, NamespaceOptions, std::less<>> named,
             const std::map<std::string, NamespaceOptions, std::less<>>& extra)
      : Namespaces(default_ns, std::move(named)) {
    for (const auto& [name, options] : extra) {
      named_.emplace(name, options);
    }
  }

  // The channel's options, or nullptr when its namespace is not configured (error 118).
  const NamespaceOptions* find(std::string_view channel) const {
    size_t colon = channel.find(':');
    if (colon == std::string_view::npos || named_.empty()) {
      return &default_;
    }
    auto it = named_.find(channel.substr(0, colon));
    if (it == named_.end()) {
      return open_ ? &default_ : nullptr;
    }
    return &it->second;
  }

  // What the broker keeps of the channel's history (the defaults for an unknown namespace, which
  // the server refuses before it reaches the broker).
  broker::HistoryOptions history(std::string_view channel) const {
    const NamespaceOptions* ns = find(channel);
    if (ns == nullptr) {
      ns = &default_;
    }
    return broker::HistoryOptions{ns->history_size, static_cast<int64_t>(ns->history_ttl_s) * 1000,
                                  ns->durable, ns->join_leave};
  }

 private:
  NamespaceOptions default_;
  std::map<std::string, NamespaceOptions, std::less<>> named_;
  bool open_ = true;  // no namespace was configured: unlisted ones get the default options
};

}  // namespace herald::hub
