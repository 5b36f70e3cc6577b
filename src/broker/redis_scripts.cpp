#include "broker/redis_scripts.h"

#include <openssl/sha.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace herald::broker::redis_scripts {
namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// Shared by the scripts that read or write history. Publications older than the TTL are dropped
// from the front of the stream (entries are in time order); each one is looked at once when it
// goes, plus one kept entry per call. Stream ids are "<offset>-0", so XTRIM MINID <offset> keeps
// that offset and everything after it.
#define HERALD_LUA_COMMON                                                               \
  "local function now_ms()\n"                                                           \
  "  local t = redis.call('TIME')\n"                                                    \
  "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                \
  "end\n"                                                                               \
  "local function trim_expired(stream, now, ttl)\n"                                     \
  "  while true do\n"                                                                   \
  "    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)\n"             \
  "    if #batch == 0 then return end\n"                                                \
  "    for _, e in ipairs(batch) do\n"                                                  \
  "      local f = e[2]\n"                                                              \
  "      local t = 0\n"                                                                 \
  "      for i = 1, #f, 2 do if f[i] == 't' then t = tonumber(f[i + 1]) end end\n"      \
  "      if t + ttl >= now then\n"                                                      \
  "        redis.call('XTRIM', stream, 'MINID', e[1])\n"                                \
  "        return\n"                                                                    \
  "      end\n"                                                                         \
  "    end\n"                                                                           \
  "    local last = tonumber(string.match(batch[#batch][1], '^(%d+)'))\n"               \
  "    redis.call('XTRIM', stream, 'MINID', string.format('%d', last + 1))\n"           \
  "  end\n"                                                                             \
  "end\n"

constexpr std::string_view kPublish =
    HERALD_LUA_COMMON
    "local stream, meta, ikeys, iorder = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
    "local chan, data, pub, key = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
    "local size, ttl, meta_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local window, keys_max = tonumber(ARGV[9]), tonumber(ARGV[10])\n"
    // ARGV[11]: when the publishing node took it (its wall clock, us; digits), passed on in the
    // fan-out message for the delivery latency on every node.
    "local now = now_ms()\n"
    "local epoch = redis.call('HGET', meta, 'e')\n"
    "local top = 0\n"
    "if not epoch then\n"
    // New, or Redis lost the meta (restart without persistence, eviction, expiry): a new epoch,
    // and what may remain of the old one goes, so that offsets can start again at 1.
    "  epoch = ARGV[8]\n"
    "  redis.call('DEL', stream, ikeys, iorder)\n"
    "else\n"
    "  top = tonumber(redis.call('HGET', meta, 'o') or '0')\n"
    "end\n"
    "local function first_offset()\n"
    "  if size == 0 then return top + 1 end\n"
    "  return top - redis.call('XLEN', stream) + 1\n"
    "end\n"
    "if key ~= '' then\n"
    "  local old = redis.call('ZRANGEBYSCORE', iorder, '-inf', now - window, 'LIMIT', 0, 1000)\n"
    "  if #old > 0 then\n"
    "    redis.call('HDEL', ikeys, unpack(old))\n"
    "    redis.call('ZREM', iorder, unpack(old))\n"
    "  end\n"
    "  local seen = redis.call('HGET', ikeys, key)\n"
    "  if seen then\n"
    "    if ttl > 0 then trim_expired(stream, now, ttl) end\n"
    "    return {epoch, tonumber(seen), first_offset(), 1}\n"
    "  end\n"
    "end\n"
    "top = top + 1\n"
    "local id = string.format('%d', top)\n"
    "redis.call('HSET', meta, 'e', epoch, 'o', id)\n"
    "if meta_ttl > 0 then redis.call('PEXPIRE', meta, meta_ttl) end\n"
    "if size > 0 then\n"
    "  if pub == '' then\n"
    "    redis.call('XADD', stream, 'MAXLEN', size, id .. '-0', 'd', data, 't', now)\n"
    "  else\n"
    "    redis.call('XADD', stream, 'MAXLEN', size, id .. '-0', 'd', data, 't', now, 'p', pub)\n"
    "  end\n"
    "  if ttl > 0 then\n"
    "    trim_expired(stream, now, ttl)\n"
    "    redis.call('PEXPIRE', stream, ttl)\n"
    "  end\n"
    "end\n"
    "if key ~= '' then\n"
    "  redis.call('HSET', ikeys, key, id)\n"
    "  redis.call('ZADD', iorder, now, key)\n"
    "  local extra = redis.call('ZCARD', iorder) - keys_max\n"
    "  if extra > 0 then\n"
    "    local gone = redis.call('ZRANGE', iorder, 0, extra - 1)\n"
    "    redis.call('HDEL', ikeys, unpack(gone))\n"
    "    redis.call('ZREMRANGEBYRANK', iorder, 0, extra - 1)\n"
    "  end\n"
    "  redis.call('PEXPIRE', ikeys, window)\n"
    "  redis.call('PEXPIRE', iorder, window)\n"
    "end\n"
    "redis.call('PUBLISH', chan, 'p' .. epoch .. ' ' .. id .. ' ' .. string.format('%d', now) ..\n"
    "           ' ' .. ARGV[11] .. ' ' .. #pub .. ' ' .. pub .. data)\n"
    "return {epoch, top, first_offset(), 0}\n";

constexpr std::string_view kRead =
    HERALD_LUA_COMMON
    "local stream, meta = KEYS[1], KEYS[2]\n"
    "local reverse, after, before = ARGV[1] == '1', tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local limit, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local epoch = redis.call('HGET', meta, 'e')\n"
    "if not epoch then\n"
    "  if ARGV[6] == '' then return {'', 0, 1, {}} end\n"
    // A node subscribing fixes the epoch now, so that a client that saw the channel empty holds
    // a position ({0, epoch}) that a later loss of the channel invalidates.
    "  epoch = ARGV[6]\n"
    "  redis.call('DEL', stream, KEYS[3], KEYS[4])\n"
    "  redis.call('HSET', meta, 'e', epoch, 'o', '0')\n"
    "  if tonumber(ARGV[7]) > 0 then redis.call('PEXPIRE', meta, tonumber(ARGV[7])) end\n"
    "end\n"
    "local top = tonumber(redis.call('HGET', meta, 'o') or '0')\n"
    "if ttl > 0 then trim_expired(stream, now_ms(), ttl) end\n"
    "local first = top - redis.call('XLEN', stream) + 1\n"
    "local entries = {}\n"
    "if limit ~= 0 then\n"
    "  local count = {}\n"
    "  if limit > 0 then count = {'COUNT', limit} end\n"
    "  if reverse then\n"
    "    local from = math.min(before - 1, top)\n"
    "    if from >= first then\n"
    "      entries = redis.call('XREVRANGE', stream, string.format('%d', from), '-',\n"
    "                           unpack(count))\n"
    "    end\n"
    "  elseif after < top then\n"
    "    entries = redis.call('XRANGE', stream, string.format('%d', math.max(after + 1, first)),\n"
    "                         '+', unpack(count))\n"
    "  end\n"
    "end\n"
    "return {epoch, top, first, entries}\n";

// Presence: a hash client -> packed info, and a zset client -> lease end (ms). Whoever reads or
// writes first drops the members whose lease ended (a node that died stops renewing them) and,
// when the namespace has join/leave pushes, publishes their leaves to the channel's fan-out, so
// the subscribers on the surviving nodes hear that they left. The keys live twice the lease: a
// member is swept (and its leave pushed) before its hash can expire under it.
#define HERALD_LUA_PRESENCE                                                           \
  "local function expire_members(hash, leases, now, chan, announce)\n"                \
  "  local gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 1000)\n" \
  "  if #gone > 0 then\n"                                                             \
  "    if announce then\n"                                                            \
  "      for _, info in ipairs(redis.call('HMGET', hash, unpack(gone))) do\n"         \
  "        if info then redis.call('PUBLISH', chan, 'l' .. info) end\n"               \
  "      end\n"                                                                       \
  "    end\n"                                                                         \
  "    redis.call('HDEL', hash, unpack(gone))\n"                                      \
  "    redis.call('ZREM', leases, unpack(gone))\n"                                    \
  "  end\n"                                                                           \
  "end\n"

constexpr std::string_view kPresenceAdd =
    HERALD_LUA_COMMON HERALD_LUA_PRESENCE
    "local hash, leases = KEYS[1], KEYS[2]\n"
    "local client, info, limit, lease = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local now = now_ms()\n"
    "expire_members(hash, leases, now, ARGV[5], ARGV[6] == '1')\n"
    "local known = redis.call('HEXISTS', hash, client) == 1\n"
    "if not known and limit > 0 and redis.call('HLEN', hash) >= limit then return 0 end\n"
    "redis.call('HSET', hash, client, info)\n"
    "redis.call('ZADD', leases, now + lease, client)\n"
    "redis.call('PEXPIRE', hash, lease * 2)\n"
    "redis.call('PEXPIRE', leases, lease * 2)\n"
    "if not known and ARGV[6] == '1' then redis.call('PUBLISH', ARGV[5], 'j' .. info) end\n"
    "return 1\n";

constexpr std::string_view kPresenceRemove =
    "local hash, leases = KEYS[1], KEYS[2]\n"
    "local info = redis.call('HGET', hash, ARGV[1])\n"
    "if not info then return 0 end\n"
    "redis.call('HDEL', hash, ARGV[1])\n"
    "redis.call('ZREM', leases, ARGV[1])\n"
    "if ARGV[3] == '1' then redis.call('PUBLISH', ARGV[2], 'l' .. info) end\n"
    "return 1\n";

// ARGV: 'list' or 'stats', the fan-out channel, '1' when leaves are announced.
constexpr std::string_view kPresenceRead =
    HERALD_LUA_COMMON HERALD_LUA_PRESENCE
    "local hash, leases = KEYS[1], KEYS[2]\n"
    "expire_members(hash, leases, now_ms(), ARGV[2], ARGV[3] == '1')\n"
    "local infos = redis.call('HVALS', hash)\n"
    "if ARGV[1] == 'list' then return infos end\n"
    "local users, n = {}, 0\n"
    "for _, v in ipairs(infos) do\n"
    "  local len = struct.unpack('<I4', v)\n"
    "  if len > 0 then\n"
    "    local user = string.sub(v, 5, 4 + len)\n"
    "    if not users[user] then users[user] = true; n = n + 1 end\n"
    "  end\n"
    "end\n"
    "return {#infos, n}\n";

// A node's renewal of its members' leases (pairs client, info from ARGV[4]), after sweeping the
// members whose lease ended. With no pair it only sweeps (a channel the node follows for its
// subscribers' leave pushes).
constexpr std::string_view kPresenceRefresh =
    HERALD_LUA_COMMON HERALD_LUA_PRESENCE
    "local hash, leases = KEYS[1], KEYS[2]\n"
    "local lease = tonumber(ARGV[1])\n"
    "local now = now_ms()\n"
    "expire_members(hash, leases, now, ARGV[2], ARGV[3] == '1')\n"
    "if #ARGV < 4 then return 0 end\n"
    "for i = 4, #ARGV, 2 do\n"
    "  redis.call('HSET', hash, ARGV[i], ARGV[i + 1])\n"
    "  redis.call('ZADD', leases, now + lease, ARGV[i])\n"
    "end\n"
    "redis.call('PEXPIRE', hash, lease * 2)\n"
    "redis.call('PEXPIRE', leases, lease * 2)\n"
    "return 1\n";

// A node announces itself: its lease in the zset of nodes is renewed, the nodes whose lease
// ended are dropped, and the live ones are returned.
constexpr std::string_view kNodeAnnounce =
    HERALD_LUA_COMMON
    "local now = now_ms()\n"
    "local lease = tonumber(ARGV[2])\n"
    "redis.call('ZADD', KEYS[1], now + lease, ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "redis.call('PEXPIRE', KEYS[1], lease)\n"
    "return redis.call('ZRANGE', KEYS[1], 0, -1)\n";

// Connections per user: a zset client -> lease end, renewed by each node for its own clients.
constexpr std::string_view kUserAdmit =
    HERALD_LUA_COMMON
    "local now = now_ms()\n"
    "local lease = tonumber(ARGV[3])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and\n"
    "   redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('ZADD', KEYS[1], now + lease, ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], lease * 2)\n"
    "return 1\n";

constexpr std::string_view kUserRefresh =
    HERALD_LUA_COMMON
    "local now = now_ms()\n"
    "local lease = tonumber(ARGV[1])\n"
    "for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end\n"
    "redis.call('PEXPIRE', KEYS[1], lease * 2)\n"
    "return 1\n";

// Holds over every node (Broker::hold): a zset per key (node -> lease end) and an index zset
// (key -> the latest lease end of its holders), so that a sweep finds the keys whose holders all
// stopped renewing.
constexpr std::string_view kHoldAcquire =
    HERALD_LUA_COMMON
    "local now = now_ms()\n"
    "local until_ms = now + tonumber(ARGV[2])\n"
    "local ended = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "local others = redis.call('ZCARD', KEYS[1]) - (mine and 1 or 0)\n"
    "redis.call('ZADD', KEYS[1], until_ms, ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], 'GT', until_ms, ARGV[3])\n"
    "if others > 0 then return 0 end\n"
    "if ended > 0 then return 2 end\n"
    "return 1\n";

// A key no longer in the index was ended by a sweep (and reported there): not decisive here.
constexpr std::string_view kHoldRelease =
    HERALD_LUA_COMMON
    "local now = now_ms()\n"
    "if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return 0 end\n"
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
    "if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[2])\n"
    "return 1\n";

constexpr std::string_view kHoldsExpired =
    HERALD_LUA_COMMON
    "return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, "
    "tonumber(ARGV[1]))\n";

// Ends one key found in the sweep unless a holder renewed it meanwhile (then its index entry
// gets the holders' latest lease end back).
constexpr std::string_view kHoldEnd =
    HERALD_LUA_COMMON
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())\n"
    "if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end\n"
    "local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')\n"
    "if #last > 0 then\n"
    "  redis.call('ZADD', KEYS[2], last[2], ARGV[1])\n"
    "  return 0\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "return 1\n";

constexpr std::string_view kHoldRefresh =
    HERALD_LUA_COMMON
    "local until_ms = now_ms() + tonumber(ARGV[2])\n"
    "for i = 2, #KEYS do\n"
    "  redis.call('ZADD', KEYS[i], until_ms, ARGV[1])\n"
    "  redis.call('ZADD', KEYS[1], 'GT', until_ms, ARGV[i + 1])\n"
    "end\n"
    "return 1\n";

Script make(std::string_view name, std::string_view text) {
  return Script{name, text, sha1_hex(text)};
}

}  // namespace

const Script& for_cluster(const Script& script) {
  // Built once per script and kept for the life of the process (a handful of entries).
  struct Variant {
    std::string text;
    Script script;
  };
  static std::mutex mutex;
  static std::unordered_map<std::string_view, std::unique_ptr<Variant>> variants;
  std::lock_guard lock(mutex);
  auto& v = variants[script.name];
  if (!v) {
    v = std::make_unique<Variant>();
    v->text = std::string(script.text);
    for (size_t at = 0; (at = v->text.find("redis.call('PUBLISH'", at)) != std::string::npos;) {
      v->text.replace(at, 20, "redis.call('SPUBLISH'");
      at += 21;
    }
    v->script = make(script.name, v->text);
  }
  return v->script;
}

const Script& publish() {
  static const Script kScript = make("publish", kPublish);
  return kScript;
}

const Script& read() {
  static const Script kScript = make("read", kRead);
  return kScript;
}

const Script& presence_add() {
  static const Script kScript = make("presence_add", kPresenceAdd);
  return kScript;
}

const Script& presence_remove() {
  static const Script kScript = make("presence_remove", kPresenceRemove);
  return kScript;
}

const Script& presence_read() {
  static const Script kScript = make("presence_read", kPresenceRead);
  return kScript;
}

const Script& presence_refresh() {
  static const Script kScript = make("presence_refresh", kPresenceRefresh);
  return kScript;
}

const Script& node_announce() {
  static const Script kScript = make("node_announce", kNodeAnnounce);
  return kScript;
}

const Script& user_admit() {
  static const Script kScript = make("user_admit", kUserAdmit);
  return kScript;
}

const Script& user_refresh() {
  static const Script kScript = make("user_refresh", kUserRefresh);
  return kScript;
}

const Script& hold_acquire() {
  static const Script kScript = make("hold_acquire", kHoldAcquire);
  return kScript;
}

const Script& hold_release() {
  static const Script kScript = make("hold_release", kHoldRelease);
  return kScript;
}

const Script& holds_expired() {
  static const Script kScript = make("holds_expired", kHoldsExpired);
  return kScript;
}

const Script& hold_end() {
  static const Script kScript = make("hold_end", kHoldEnd);
  return kScript;
}

const Script& hold_refresh() {
  static const Script kScript = make("hold_refresh", kHoldRefresh);
  return kScript;
}

}  // namespace herald::broker::redis_scripts
