#pragma once
// Request rate limits (rate_limits: in the config), one pair of tables per
// worker, so the packet path takes no lock. Two levels (docs/policy.md):
//
//  - per source address (IP and port): the tight limit, what one client
//    socket needs. Behind a carrier-grade NAT each user has its own port, so
//    one abusive socket is limited without touching its neighbours;
//  - per source IP: a wide limit sized for thousands of users behind one
//    NAT address, so that a host rotating its ports is still bounded.
//
// A request refused at the source level is not charged to its IP, so an
// abusive socket cannot drain the bucket its NAT neighbours share.
//
// Memory is fixed: 2 * kRateSets * IpTable::kWays = 32768 entries of ~80
// bytes (~2.6 MiB) per worker, whatever the number of sources. When more
// sources are active than fit, the least recently seen is forgotten, and a
// forgotten source starts again with a full bucket: under a spoofed-source
// flood the limit degrades to "per recently seen source", it never grows
// memory.
//
// An IPv6 source counts as its first `v6Prefix` bits (ipv6_client_prefix,
// default /64: clientKey(), relay/base/address_key.h), both for the per-IP
// and the per-source level, so a host cannot escape by rotating addresses
// inside its own prefix.
#include <cstdint>

#include "policy/quotas.h"
#include "relay/base/ip_table.h"
#include "relay/base/token_bucket.h"

namespace tw::turn {

constexpr size_t kRateSets = 4096;

class RateLimiter {
 public:
  explicit RateLimiter(const SipKey& key, size_t sets = kRateSets,
                       uint8_t v6Prefix = kDefaultIpv6ClientPrefix)
      : perIp_(sets, key), perSource_(sets, key), v6Prefix_(v6Prefix) {}

  /// One STUN request from `source`; false when over
  /// rate_limits.requests_per_source or rate_limits.requests_per_ip.
  bool allowRequest(const SocketAddress& source, Instant now, const policy::RateLimitsConfig& cfg);
  /// A request from `source` is about to earn a 401/438; false when over
  /// rate_limits.unauthenticated_per_source or unauthenticated_per_ip (the
  /// challenge is then not sent).
  bool allowUnauthenticated(const SocketAddress& source, Instant now, const policy::RateLimitsConfig& cfg);
  size_t capacity() const { return perIp_.capacity() + perSource_.capacity(); }

 private:
  struct Buckets {
    TokenBucket requests;
    TokenBucket unauthenticated;
  };
  using Pick = TokenBucket Buckets::*;
  bool allow(const SocketAddress& source, Instant now, Pick which, const policy::RateConfig& perSource,
             const policy::RateConfig& perIp);

  IpTable<Buckets> perIp_;
  IpTable<Buckets, SocketAddress> perSource_;
  uint8_t v6Prefix_;
};

}  // namespace tw::turn
