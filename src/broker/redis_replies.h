#pragma once
// Reading the Redis broker's replies: the answers of its scripts and the publications it
// PUBLISHes. Bytes from Redis are not trusted to be well formed (another program may write to
// our keys and channels): anything malformed is an Error or false, never a crash.
// Thread: any (functions).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "broker/broker.h"
#include "broker/resp.h"

namespace herald::broker::redis_replies {

bool to_u64(std::string_view s, uint64_t& v);
// An integer reply, or a string of digits; 0 otherwise.
uint64_t reply_u64(const resp::Reply& r);
// The Error for a reply that is not what `what` expects.
Error bad_reply(const char* what, const resp::Reply& r);
// The read script's answer: {epoch, top, first, entries}.
Result<HistoryResult> parse_history(resp::Reply& r);
// A publication as the publish script PUBLISHes it:
// "p<epoch> <offset> <time> <taken> <publisher length> <publisher bytes><data>", where <time>
// is Redis's clock (ms) and <taken> the publishing node's wall clock (us) when its hub took the
// publish (0: unknown). rec.published_ns is <taken> on this process's steady clock, so that
// every node observes publish-to-delivery latency (across nodes, their clock offset included).
bool parse_publication(std::string_view payload, std::string& epoch, PublicationRecord& rec);

// A steady-clock time (ns, PublishRequest::published_ns) on the wall clock (us), and back; 0
// stays 0 (unknown).
uint64_t steady_ns_to_wall_us(int64_t steady_ns);
int64_t wall_us_to_steady_ns(uint64_t wall_us);

}  // namespace herald::broker::redis_replies
