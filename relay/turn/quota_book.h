#pragma once
// Allocation quotas shared by every worker (quotas: in the config): live
// allocations per credential and client IP (per_user), per client IP
// (per_ip) and in total, and the bandwidth reserved by live allocations
// against quotas.total_bps.
//
// per_user is keyed on the whole USERNAME (for REST, `expiry:user` with its
// expiry) together with the client IP: apps that give everybody the same
// user part still mint a distinct credential per session, and one shared
// credential used from many addresses is not one client (docs/policy.md). One mutex, taken
// once per Allocate and once per allocation deletion, never per packet.
//
// "Client IP" is clientKey(): an IPv6 client counts as its first `v6Prefix` bits
// (ipv6_client_prefix, default /64; restart-only, so acquire and release always key
// alike), and the maps hash with SipHash under a per-process key.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policy/quotas.h"
#include "relay/base/address.h"
#include "relay/base/address_key.h"
#include "relay/base/result.h"

namespace tw::turn {

enum class QuotaRefusal { PerUser, PerIp, Total, TotalBps, kCount };
/// "user_quota", "ip_quota", "total_quota", "bandwidth_quota".
std::string_view toString(QuotaRefusal r);

class QuotaBook {
 public:
  /// Tests only use the default (a fixed zero key); SharedLimits passes a random one.
  explicit QuotaBook(const SipKey& key = {}, uint8_t v6Prefix = kDefaultIpv6ClientPrefix)
      : perUser_(0, SipStringHash{key}), perIp_(0, KeyedAddressHash{key}), v6Prefix_(v6Prefix) {}
  /// Reserves one allocation for `username` from `ip` with `bps` of
  /// bandwidth (the allocation's max_bps, 0 = unlimited and not counted), or
  /// says which quota it would exceed. A 0 limit means unlimited.
  Status<QuotaRefusal> acquire(const std::string& username, const IpAddress& ip, uint64_t bps,
                               const policy::QuotasConfig& q);
  /// Returns what acquire() reserved.
  void release(const std::string& username, const IpAddress& ip, uint64_t bps);

  /// Fleet mode (docs/fleet.md): the allocations of the other live nodes,
  /// added to this node's own when per_user and per_ip are checked. The
  /// quotas total and total_bps stay per node.
  void setFleetCounts(policy::QuotaCounts others);
  /// This node's own per-(credential, IP) and per-IP counts, for its fleet share.
  policy::QuotaCounts localCounts() const;
  /// Grows on every acquire and release: a fleet share is re-sent only
  /// when this moved.
  uint64_t changes() const;

  size_t total() const;
  /// Live allocations of `username` from `ip` (what per_user bounds).
  size_t forUser(const std::string& username, const IpAddress& ip) const;
  size_t forIp(const IpAddress& ip) const;
  uint64_t reservedBps() const;

 private:
  /// policy::perUserKey: USERNAME, a NUL, then the client IP's text; the
  /// fleet's counts (setFleetCounts) use the same key.
  static std::string userKey(const std::string& username, const IpAddress& ip);

  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t, SipStringHash> perUser_;
  std::unordered_map<IpAddress, size_t, KeyedAddressHash> perIp_;
  uint8_t v6Prefix_;
  policy::QuotaCounts fleet_;
  uint64_t changes_ = 0;
  size_t total_ = 0;
  uint64_t bps_ = 0;
};

}  // namespace tw::turn
