#pragma once
// quotas.bytes_per_user (docs/policy.md, "Volume limits"): relayed bytes per
// user in the current window, shared by every worker. Workers charge it from
// their 1 s tick with the growth of their allocations' byte counters (one
// lock per worker per tick, never per packet) and ask which users are over.
// Windows are aligned to the Unix epoch, so every worker (and, later, every
// node of a fleet) agrees on when a window starts.
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/quotas.h"

namespace tw::turn {

struct VolumeCharge {
  std::string user;
  uint64_t bytes = 0;
};

/// Fleet mode: what this node charged since its last sync, for one window.
struct VolumeBatch {
  int64_t window = 0;  ///< the window's index (Unix seconds / window length)
  int64_t windowSeconds = 0;
  std::vector<VolumeCharge> charges;
};

class VolumeBook {
 public:
  /// Adds `charges` to their users' counts in the window holding `unixNow`
  /// (a new window starts every user at 0).
  void charge(std::span<const VolumeCharge> charges, int64_t unixNow, const policy::VolumeLimit& v);
  /// The users over `v.limit` in the window holding `unixNow`, with their counts.
  std::vector<VolumeCharge> over(int64_t unixNow, const policy::VolumeLimit& v) const;
  /// `user`'s bytes in the window holding `unixNow`.
  uint64_t used(const std::string& user, int64_t unixNow, const policy::VolumeLimit& v) const;
  // Fleet mode (docs/usage.md): FleetNode adds this node's charges to the
  // realm's count in Redis and hands back the fleet's totals; a user's usage
  // is then the larger of this node's count and the fleet total plus what
  // this node charged since.
  /// Starts keeping what is charged for takeUnsent().
  void enableFleet();
  /// What was charged since the last call (empty when nothing was); with
  /// `everyUser`, also every other user charged in this window, with 0 bytes,
  /// so their fleet totals are read again (other nodes may have added to them).
  VolumeBatch takeUnsent(bool everyUser = false);
  /// Returns a batch that could not be sent (same window only).
  void giveBack(const VolumeBatch& batch);
  /// The fleet's totals (which include this node's sent charges) for `window`.
  void setFleetTotals(int64_t window, const std::vector<VolumeCharge>& totals);

  /// Whether `user` is over the limit now (Allocate, Refresh).
  bool isOver(const std::string& user, int64_t unixNow, const policy::VolumeLimit& v) const {
    return v.limit != 0 && used(user, unixNow, v) > v.limit;
  }

 private:
  static int64_t windowOf(int64_t unixNow, const policy::VolumeLimit& v);
  /// Forgets the counts of an earlier window (once per window, under mu_).
  void roll(int64_t window);
  /// `user`'s bytes in the current window (under mu_).
  uint64_t usedLocked(const std::string& user) const;

  mutable std::mutex mu_;
  int64_t window_ = -1;
  std::unordered_map<std::string, uint64_t> bytes_;  ///< charged on this node
  bool fleet_ = false;
  int64_t windowSeconds_ = 0;
  std::unordered_map<std::string, uint64_t> unsent_;       ///< fleet: charged since the last sync
  std::unordered_map<std::string, uint64_t> fleetTotals_;  ///< fleet: totals at the last sync
};

}  // namespace tw::turn
