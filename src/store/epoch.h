#pragma once
// Epochs: the short random strings that name one continuous history of a channel. A new one is
// drawn whenever that history is lost; a client holding an offset of an older epoch must reload.
// Thread: any (no shared state).

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::store {

// 64 random bits from the OS (std::random_device reads getrandom/urandom on Linux).
uint64_t random_u64();
// 16 lowercase hex digits, random, never equal to `previous`.
std::string random_epoch(std::string_view previous = {});
// 16 hex digits derived from the channel name and a per-process salt: the epoch of a channel that
// has nothing stored yet, stable for the life of the process without remembering anything.
std::string derived_epoch(std::string_view channel, uint64_t salt);

}  // namespace herald::store
