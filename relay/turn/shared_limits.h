#pragma once
// The admission state every worker shares: allocation quotas and IP bans.
// One instance per process (ServerApp); the admin API lists and lifts bans
// through it. Both members are thread-safe.
#include "relay/base/random.h"
#include "relay/turn/ban_table.h"
#include "relay/turn/quota_book.h"

namespace tw::turn {

struct SharedLimits {
  explicit SharedLimits(Random& rng) : bans(rng.u64()) {}
  QuotaBook quotas;
  BanTable bans;
};

}  // namespace tw::turn
