#include "server/permissions.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

namespace herald::server {
namespace {

using R = std::optional<Refusal>;

NamespaceOptions with(Access subscribe, Access publish, Access presence, Access history) {
  NamespaceOptions ns;
  ns.subscribe = subscribe;
  ns.publish = publish;
  ns.see_presence = presence;
  ns.read_history = history;
  return ns;
}

struct Case {
  const char* name;
  NamespaceOptions ns;
  Operation op;
  const char* channel;
  Requester who;
  R expected;
};

// Every rule for every operation, and every refusal reached.
TEST(Permissions, Table) {
  const NamespaceOptions open;
  const NamespaceOptions members = with(Access::kAuthenticated, Access::kAuthenticated,
                                        Access::kAuthenticated, Access::kAuthenticated);
  const NamespaceOptions priv =
      with(Access::kToken, Access::kSubscribers, Access::kSubscribers, Access::kSubscribers);
  const NamespaceOptions closed =
      with(Access::kAnyone, Access::kNone, Access::kNone, Access::kNone);
  const Requester anon{"", false, false};
  const Requester user{"42", false, false};
  const Requester subscribed{"42", true, false};
  const Requester anon_subscribed{"", true, false};
  const Requester with_token{"42", false, true};
  const Requester anon_with_token{"", false, true};
  const Case cases[] = {
      // The defaults: everyone may do everything.
      {"open subscribe", open, Operation::kSubscribe, "news", anon, std::nullopt},
      {"open publish", open, Operation::kPublish, "news", anon, std::nullopt},
      {"open presence", open, Operation::kPresence, "news", anon, std::nullopt},
      {"open history", open, Operation::kHistory, "news", anon, std::nullopt},
      // authenticated
      {"members: anonymous subscribe", members, Operation::kSubscribe, "m:a", anon,
       Refusal::kAnonymous},
      {"members: user subscribe", members, Operation::kSubscribe, "m:a", user, std::nullopt},
      {"members: anonymous with a channel token", members, Operation::kSubscribe, "m:a",
       anon_with_token, std::nullopt},
      {"members: anonymous publish", members, Operation::kPublish, "m:a", anon_subscribed,
       Refusal::kAnonymous},
      {"members: user publish", members, Operation::kPublish, "m:a", user, std::nullopt},
      {"members: anonymous presence", members, Operation::kPresence, "m:a", anon,
       Refusal::kAnonymous},
      {"members: anonymous history", members, Operation::kHistory, "m:a", anon,
       Refusal::kAnonymous},
      {"members: user history", members, Operation::kHistory, "m:a", user, std::nullopt},
      // token, subscribers
      {"private: subscribe without token", priv, Operation::kSubscribe, "p:a", user,
       Refusal::kTokenRequired},
      {"private: anonymous without token", priv, Operation::kSubscribe, "p:a", anon,
       Refusal::kTokenRequired},
      {"private: subscribe with token", priv, Operation::kSubscribe, "p:a", with_token,
       std::nullopt},
      {"private: publish unsubscribed", priv, Operation::kPublish, "p:a", user,
       Refusal::kNotSubscribed},
      {"private: publish subscribed", priv, Operation::kPublish, "p:a", subscribed, std::nullopt},
      {"private: anonymous subscriber publishes", priv, Operation::kPublish, "p:a", anon_subscribed,
       std::nullopt},
      {"private: presence unsubscribed", priv, Operation::kPresence, "p:a", user,
       Refusal::kNotSubscribed},
      {"private: presence subscribed", priv, Operation::kPresence, "p:a", subscribed, std::nullopt},
      {"private: history unsubscribed", priv, Operation::kHistory, "p:a", user,
       Refusal::kNotSubscribed},
      {"private: history subscribed", priv, Operation::kHistory, "p:a", subscribed, std::nullopt},
      // none
      {"closed publish", closed, Operation::kPublish, "c:a", subscribed, Refusal::kNobody},
      {"closed presence", closed, Operation::kPresence, "c:a", subscribed, Refusal::kNobody},
      {"closed history", closed, Operation::kHistory, "c:a", subscribed, Refusal::kNobody},
      {"closed subscribe", closed, Operation::kSubscribe, "c:a", anon, std::nullopt},
      // User-limited channels, in any namespace, before anything else.
      {"dialog: listed user", open, Operation::kSubscribe, "dialogs:#42,43", user, std::nullopt},
      {"dialog: other user", open, Operation::kSubscribe, "dialogs:#41,43", user,
       Refusal::kUserLimited},
      {"dialog: anonymous", open, Operation::kSubscribe, "dialogs:#42,43", anon,
       Refusal::kUserLimited},
      {"dialog: a channel token does not widen the list", open, Operation::kSubscribe,
       "dialogs:#41", with_token, Refusal::kUserLimited},
      {"dialog: publish", open, Operation::kPublish, "dialogs:#41", subscribed,
       Refusal::kUserLimited},
      {"dialog: presence", open, Operation::kPresence, "dialogs:#41", subscribed,
       Refusal::kUserLimited},
      {"dialog: history", open, Operation::kHistory, "dialogs:#41", subscribed,
       Refusal::kUserLimited},
      {"dialog in a private namespace, listed, no token", priv, Operation::kSubscribe, "p:#42",
       user, Refusal::kTokenRequired},
      {"dialog in a closed namespace", closed, Operation::kPublish, "c:#42", subscribed,
       Refusal::kNobody},
  };
  std::set<Refusal> reached;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    R got = check_access(c.ns, c.op, c.channel, c.who);
    EXPECT_EQ(got, c.expected) << (got ? to_string(*got) : "allowed");
    if (got) {
      reached.insert(*got);
      EXPECT_EQ(error_code(*got), *got == Refusal::kTokenRequired
                                      ? protocol::ErrorCode::kUnauthorized
                                      : protocol::ErrorCode::kPermissionDenied);
    }
  }
  // kChannelToken is decided by the caller (a refused token), the rest here.
  reached.insert(Refusal::kChannelToken);
  EXPECT_EQ(reached.size(), std::size(kAllRefusals));
}

// Every message starts with the error's default message, as docs/PROTOCOL.md says messages do.
TEST(Permissions, MessagesAndNames) {
  std::set<std::string_view> names;
  for (Refusal r : kAllRefusals) {
    EXPECT_TRUE(names.insert(to_string(r)).second) << to_string(r);
    for (Operation op : kAllOperations) {
      std::string_view message = refusal_message(op, r);
      std::string_view prefix = protocol::error_message(error_code(r));
      EXPECT_TRUE(message.starts_with(prefix)) << message;
    }
  }
  EXPECT_EQ(error_code(Refusal::kChannelToken), protocol::ErrorCode::kUnauthorized);
  std::set<std::string_view> ops;
  for (Operation op : kAllOperations) {
    EXPECT_TRUE(ops.insert(to_string(op)).second);
  }
  EXPECT_EQ(refusal_message(Operation::kPublish, Refusal::kNobody),
            "permission denied: clients may not publish in this namespace");
}

}  // namespace
}  // namespace herald::server
