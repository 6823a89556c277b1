#pragma once
// The state every worker shares: allocation quotas, IP bans, the TCP
// relay CONNECTION-ID map and per-user volumes. One instance per process (ServerApp); the admin
// API lists and lifts bans through it. Every member is thread-safe.
#include "relay/base/address_key.h"
#include "relay/base/random.h"
#include "relay/turn/ban_table.h"
#include "relay/turn/connection_directory.h"
#include "relay/turn/quota_book.h"
#include "relay/turn/volume_book.h"

namespace tw::turn {

struct SharedLimits {
  /// Each table gets its own SipHash key from `rng`; an IPv6 client is its
  /// first `v6Prefix` bits (ipv6_client_prefix) in both.
  explicit SharedLimits(Random& rng, uint8_t v6Prefix = kDefaultIpv6ClientPrefix, size_t banSets = kBanSets)
      : quotas(SipKey::random(rng), v6Prefix), bans(SipKey::random(rng), banSets, v6Prefix) {}
  QuotaBook quotas;
  BanTable bans;
  ConnectionDirectory connections;
  VolumeBook volume;  ///< quotas.bytes_per_user
};

}  // namespace tw::turn
