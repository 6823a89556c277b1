#pragma once
// Temporary bans of source addresses (IP and port) after repeated
// authentication failures (bans.failed_auth: more than `threshold` failures
// within `window` bans the address for `ban_for`). Keyed by IP *and port*:
// behind a carrier-grade NAT thousands of users share one IP, each on its
// own port, and one guesser among them must not lock the others out
// (docs/policy.md). Shared by all workers and by the admin API, so every
// method is thread-safe (one mutex). The packet path pays one relaxed atomic
// load while no ban is active, and takes the mutex only while some are.
//
// An IPv6 source is keyed on its first `v6Prefix` bits and its port
// (ipv6_client_prefix, default /64: clientKey()), so a guesser that rotates
// addresses inside its prefix keeps one failure count; list() and the fleet
// name such a ban by the prefix's first address.
//
// Memory is fixed: kBanSets * IpTable::kWays = 16384 tracked sources.
// Counting a new source in a full set forgets the least recently seen
// non-banned source of that set, so a flood of failures from many spoofed sources cannot evict
// an active ban (unless a whole set of 4 is banned).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "policy/quotas.h"
#include "relay/base/ip_table.h"

namespace tw::turn {

constexpr size_t kBanSets = 4096;

class BanTable {
 public:
  explicit BanTable(const SipKey& key, size_t sets = kBanSets, uint8_t v6Prefix = kDefaultIpv6ClientPrefix)
      : table_(sets, key), v6Prefix_(v6Prefix) {}

  /// True while `source` is banned (the caller drops its packets).
  bool isBanned(const SocketAddress& source, Instant now);
  /// Counts one failed authentication; returns true when this failure
  /// started a ban.
  bool recordFailure(const SocketAddress& source, Instant now, const policy::BansConfig& cfg);

  struct Ban {
    IpAddress ip;
    uint16_t port = 0;
    Instant until;
    uint32_t failures = 0;
  };
  /// Fleet mode: a ban another node started (docs/fleet.md). Not reported
  /// by takeNewBans(), so it is never sent back to the fleet.
  void impose(const SocketAddress& source, Instant now, Instant until);
  /// Bans recordFailure() started since the last call (at most
  /// kMaxNewBans are kept), for the fleet to publish.
  std::vector<Ban> takeNewBans();
  static constexpr size_t kMaxNewBans = 1024;

  /// Active bans (for the admin API and logs).
  std::vector<Ban> list(Instant now);
  /// Ends every ban of `ip`'s client key (any port: for IPv6, its prefix)
  /// early; false when none was active.
  bool lift(const IpAddress& ip);
  /// Forgets expired bans (called from each worker's tick).
  void expire(Instant now);

 private:
  struct Record {
    Instant windowStart{};
    uint32_t failures = 0;
    Instant bannedUntil{};
    bool banned = false;
  };
  void unban(Record& r);

  std::mutex mu_;
  IpTable<Record, SocketAddress> table_;
  uint8_t v6Prefix_;
  std::atomic<size_t> active_{0};
  std::vector<Ban> newBans_;
};

}  // namespace tw::turn
