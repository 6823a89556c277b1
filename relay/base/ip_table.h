#pragma once
// A fixed-size, set-associative table keyed by IP address (or by source
// address, IP and port, for per-socket state behind a shared NAT), for per-source
// state that an attacker can make us create (rate-limit buckets, auth
// failure counts). Memory is fixed at construction: kWays entries per set,
// `sets` sets; inserting into a full set evicts the entry that was touched
// least recently (unless `keep` says it must stay). The set index is
// SipHash-2-4 under a key random per process (relay/base/address_key.h), so a
// remote sender cannot aim many addresses at one set to evict a victim's
// entry on purpose. The table stores the keys it is given: callers that count
// per client form them with clientKey() (an IPv6 client is its /64).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "relay/base/address.h"
#include "relay/base/address_key.h"
#include "relay/base/clock.h"

namespace tw {

template <class Value, class Key = IpAddress>
class IpTable {
 public:
  static constexpr size_t kWays = 4;

  struct Entry {
    Key key;
    Instant touched{};
    bool used = false;
    Value value{};
  };

  IpTable(size_t sets, const SipKey& key) : sets_(std::max<size_t>(sets, 1)), key_(key) {
    slots_.resize(sets_ * kWays);
  }
  /// A key expanded from 64 random bits (SipKey::fromSeed).
  IpTable(size_t sets, uint64_t seed) : IpTable(sets, SipKey::fromSeed(seed)) {}

  size_t capacity() const { return slots_.size(); }

  Entry* find(const Key& key) {
    for (Entry& e : set(key))
      if (e.used && e.key == key) return &e;
    return nullptr;
  }

  /// The entry for `key`, created (fresh Value) when missing. `keep(entry)`
  /// protects an entry from eviction (e.g. an active ban) while others exist.
  Entry& touch(const Key& key, Instant now, const std::function<bool(const Entry&)>& keep = {}) {
    auto s = set(key);
    Entry* victim = nullptr;
    for (Entry& e : s) {
      if (e.used && e.key == key) {
        e.touched = now;
        return e;
      }
      if (!e.used) victim = victim && !victim->used ? victim : &e;
    }
    if (!victim) victim = oldest(s, keep);
    *victim = Entry{key, now, true, Value{}};
    return *victim;
  }

  void forEach(const std::function<void(Entry&)>& fn) {
    for (Entry& e : slots_)
      if (e.used) fn(e);
  }

 private:
  std::span<Entry> set(const Key& key) {
    const uint64_t h = keyedHash(key_, key);
    return std::span<Entry>(slots_).subspan((h % sets_) * kWays, kWays);
  }

  static Entry* oldest(std::span<Entry> s, const std::function<bool(const Entry&)>& keep) {
    Entry* best = nullptr;
    for (int pass = 0; pass < 2 && !best; ++pass) {
      for (Entry& e : s) {
        if (pass == 0 && keep && keep(e)) continue;
        if (!best || e.touched < best->touched) best = &e;
      }
    }
    return best;
  }

  size_t sets_;
  SipKey key_;
  std::vector<Entry> slots_;
};

}  // namespace tw
