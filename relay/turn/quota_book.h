#pragma once
// Allocation quotas shared by every worker (quotas: in the config): live
// allocations per REST user, per client IP and in total, and the bandwidth
// reserved by live allocations against quotas.total_bps. One mutex, taken
// once per Allocate and once per allocation deletion, never per packet.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policy/quotas.h"
#include "relay/base/address.h"
#include "relay/base/result.h"

namespace tw::turn {

enum class QuotaRefusal { PerUser, PerIp, Total, TotalBps, kCount };
/// "user_quota", "ip_quota", "total_quota", "bandwidth_quota".
std::string_view toString(QuotaRefusal r);

class QuotaBook {
 public:
  /// Reserves one allocation for `user` from `ip` with `bps` of bandwidth
  /// (the allocation's max_bps, 0 = unlimited and not counted), or says
  /// which quota it would exceed. A 0 limit means unlimited.
  Status<QuotaRefusal> acquire(const std::string& user, const IpAddress& ip, uint64_t bps,
                               const policy::QuotasConfig& q);
  /// Returns what acquire() reserved.
  void release(const std::string& user, const IpAddress& ip, uint64_t bps);

  size_t total() const;
  size_t forUser(const std::string& user) const;
  size_t forIp(const IpAddress& ip) const;
  uint64_t reservedBps() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> perUser_;
  std::unordered_map<IpAddress, size_t> perIp_;
  size_t total_ = 0;
  uint64_t bps_ = 0;
};

}  // namespace tw::turn
