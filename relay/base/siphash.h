#pragma once
// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012), written from the paper: a keyed 64-bit hash for the tables an
// attacker can fill (per-IP buckets, bans, quota counts). The key is random
// per process, so which addresses share a set or a bucket cannot be worked
// out offline, and the key enters before the first input byte (unlike a
// salt mixed into an unkeyed hash afterwards, whose collisions stay
// collisions).
#include <cstdint>
#include <span>
#include <string_view>

namespace tw {

class Random;

/// A 128-bit SipHash key, as the paper's k0 (bytes 0-7) and k1 (bytes 8-15),
/// each read little-endian.
struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
  /// 128 fresh bits from `rng` (the CSPRNG in production).
  static SipKey random(Random& rng);
  /// Expands a 64-bit seed into a key (for callers that hold one 64-bit
  /// random value; the key then has 64 bits of entropy).
  static SipKey fromSeed(uint64_t seed);
};

/// SipHash-2-4 of `data` under `key`.
uint64_t sipHash24(const SipKey& key, std::span<const uint8_t> data);

/// A keyed hasher for unordered containers of strings.
struct SipStringHash {
  SipKey key;
  size_t operator()(std::string_view s) const {
    return sipHash24(key, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
};

}  // namespace tw
