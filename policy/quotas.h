#pragma once
// Admission limits of the relay, as configured (quotas:, rate_limits:,
// bans:) and as carried by every PolicySnapshot. They are plain values so a
// reload can change them; the shared state that enforces them (allocation
// counts, buckets, bans) lives in relay/turn and survives reloads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "relay/base/address.h"
#include "relay/base/clock.h"

namespace tw::policy {

/// quotas: allocations per REST user / per client IP / in total, and
/// bandwidth. 0 in any count or rate means "unlimited".
struct QuotasConfig {
  size_t perUser = 10;
  size_t perIp = 20;
  size_t total = 20000;
  /// Per allocation and per direction, bytes per second (token bucket with a
  /// burst of one second's worth). 0 = unlimited.
  uint64_t maxBps = 2000000;
  /// Server-wide: an Allocate is refused (486) when the sum of max_bps over
  /// live allocations plus this allocation's max_bps would exceed it.
  /// 0 = unlimited.
  uint64_t totalBps = 0;
  /// TCP relay (RFC 6062): live peer connections of one TCP allocation,
  /// outbound and inbound. 0 = unlimited.
  size_t tcpConnectionsPerAllocation = 16;
  /// TCP relay: Connect requests one allocation may make per minute (token
  /// bucket, burst = the same number), so the relay is no port scanner.
  /// 0 = unlimited.
  size_t connectsPerMinute = 30;
};

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
/// rate 0 disables the limit.
struct RateConfig {
  uint32_t rate = 0;
  uint32_t burst = 0;
};

struct RateLimitsConfig {
  /// Every STUN request from one source IP (before decode and auth).
  RateConfig requestsPerIp{50, 100};
  /// Requests from one source IP that earn a 401 or 438 (no or bad
  /// credentials): tighter, since these are what reflection and brute force
  /// look like.
  RateConfig unauthenticatedPerIp{5, 20};
};

/// bans.failed_auth: more than `threshold` authentication failures from one
/// IP within `window` bans it for `banFor`. threshold 0 disables bans.
struct BansConfig {
  uint32_t threshold = 20;
  tw::Duration window = std::chrono::seconds(60);
  tw::Duration banFor = std::chrono::minutes(10);
};

/// Live allocations per REST user and per client IP: one node's share, or
/// the sum over the other nodes of a fleet (docs/fleet.md).
struct QuotaCounts {
  std::unordered_map<std::string, size_t> users;
  std::unordered_map<IpAddress, size_t> ips;
  bool operator==(const QuotaCounts&) const = default;
};

}  // namespace tw::policy
