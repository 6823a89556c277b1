#pragma once
// Per-source-IP request rate limits (rate_limits: in the config), one table
// per worker, so the packet path takes no lock. Memory is fixed:
// kRateSets * IpTable::kWays = 16384 entries of ~80 bytes (~1.3 MiB) per
// worker, whatever the number of sources. When more sources are active than
// fit, the least recently seen is forgotten, and a forgotten source starts
// again with a full bucket: under a spoofed-source flood the limit degrades
// to "per recently seen IP", it never grows memory.
#include <cstdint>

#include "policy/quotas.h"
#include "relay/turn/ip_table.h"
#include "relay/turn/token_bucket.h"

namespace tw::turn {

constexpr size_t kRateSets = 4096;

class RateLimiter {
 public:
  explicit RateLimiter(uint64_t salt, size_t sets = kRateSets) : table_(sets, salt) {}

  /// One STUN request from `ip`; false when over rate_limits.requests_per_ip.
  bool allowRequest(const IpAddress& ip, Instant now, const policy::RateLimitsConfig& cfg);
  /// A request from `ip` is about to earn a 401/438; false when over
  /// rate_limits.unauthenticated_per_ip (the challenge is then not sent).
  bool allowUnauthenticated(const IpAddress& ip, Instant now, const policy::RateLimitsConfig& cfg);
  size_t capacity() const { return table_.capacity(); }

 private:
  struct Buckets {
    TokenBucket requests;
    TokenBucket unauthenticated;
  };
  IpTable<Buckets> table_;
};

}  // namespace tw::turn
