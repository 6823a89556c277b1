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

class VolumeBook {
 public:
  /// Adds `charges` to their users' counts in the window holding `unixNow`
  /// (a new window starts every user at 0).
  void charge(std::span<const VolumeCharge> charges, int64_t unixNow, const policy::VolumeLimit& v);
  /// The users over `v.limit` in the window holding `unixNow`, with their counts.
  std::vector<VolumeCharge> over(int64_t unixNow, const policy::VolumeLimit& v) const;
  /// `user`'s bytes in the window holding `unixNow`.
  uint64_t used(const std::string& user, int64_t unixNow, const policy::VolumeLimit& v) const;
  /// Whether `user` is over the limit now (Allocate, Refresh).
  bool isOver(const std::string& user, int64_t unixNow, const policy::VolumeLimit& v) const {
    return v.limit != 0 && used(user, unixNow, v) > v.limit;
  }

 private:
  static int64_t windowOf(int64_t unixNow, const policy::VolumeLimit& v);
  /// Forgets the counts of an earlier window (once per window, under mu_).
  void roll(int64_t window);

  mutable std::mutex mu_;
  int64_t window_ = -1;
  std::unordered_map<std::string, uint64_t> bytes_;
};

}  // namespace tw::turn
