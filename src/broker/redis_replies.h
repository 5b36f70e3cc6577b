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
// "p<epoch> <offset> <time> <publisher length> <publisher bytes><data>".
bool parse_publication(std::string_view payload, std::string& epoch, PublicationRecord& rec);

}  // namespace herald::broker::redis_replies
