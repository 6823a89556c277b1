#pragma once
// The state every worker shares: allocation quotas, IP bans, the TCP
// relay CONNECTION-ID map and per-user volumes. One instance per process (ServerApp); the admin
// API lists and lifts bans through it. Every member is thread-safe.
#include "relay/base/random.h"
#include "relay/turn/ban_table.h"
#include "relay/turn/connection_directory.h"
#include "relay/turn/quota_book.h"
#include "relay/turn/volume_book.h"

namespace tw::turn {

struct SharedLimits {
  explicit SharedLimits(Random& rng, size_t banSets = kBanSets) : bans(rng.u64(), banSets) {}
  QuotaBook quotas;
  BanTable bans;
  ConnectionDirectory connections;
  VolumeBook volume;  ///< quotas.bytes_per_user
};

}  // namespace tw::turn
