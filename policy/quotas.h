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

/// quotas.bytes_per_user: at most `limit` relayed bytes (both directions)
/// per user (the REST user part) in each `window`; windows are aligned to the
/// Unix epoch (a 1d window resets at 00:00 UTC). limit 0: unlimited.
struct VolumeLimit {
  uint64_t limit = 0;
  tw::Duration window = std::chrono::hours(24);
  bool operator==(const VolumeLimit&) const = default;
};

/// quotas: allocations per credential and client IP / per client IP / in
/// total, and bandwidth. 0 in any count or rate means "unlimited".
/// Why these defaults (carrier-grade NAT, shared user names): docs/policy.md.
struct QuotasConfig {
  /// Live allocations of one USERNAME (the whole REST `expiry:user`) from one
  /// client IP.
  size_t perUser = 50;
  /// Live allocations from one client IP, whatever the credential. Off: one
  /// carrier NAT address carries thousands of users.
  size_t perIp = 0;
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
  /// bytes_per_user: relayed bytes (both directions) per user in each window.
  VolumeLimit bytesPerUser;
};

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
/// rate 0 disables the limit.
struct RateConfig {
  uint32_t rate = 0;
  uint32_t burst = 0;
};

/// Each limit exists per source address (IP and port: one client socket,
/// one user behind a NAT) and, much wider, per source IP (everyone behind
/// one NAT address together). docs/policy.md gives the sizing.
struct RateLimitsConfig {
  /// Every STUN request from one source address (before decode and auth).
  RateConfig requestsPerSource{50, 100};
  /// Every STUN request from one source IP.
  RateConfig requestsPerIp{1000, 2000};
  /// Requests from one source address that earn a 401 or 438 (no or bad
  /// credentials): tighter, since these are what reflection and brute force
  /// look like.
  RateConfig unauthenticatedPerSource{5, 20};
  /// The same from one source IP: every user behind a NAT earns one
  /// challenge per call set-up.
  RateConfig unauthenticatedPerIp{200, 400};
};

/// bans.failed_auth: more than `threshold` authentication failures from one
/// source address (IP and port) within `window` bans that address for
/// `banFor`. threshold 0 disables bans.
struct BansConfig {
  uint32_t threshold = 20;
  tw::Duration window = std::chrono::seconds(60);
  tw::Duration banFor = std::chrono::minutes(10);
};

/// per_user's key: the whole USERNAME, a NUL, then the client IP's text
/// (NUL cannot occur in an IP's text, so two different pairs never share a
/// key). The QuotaBook and the fleet's node records both use it.
inline std::string perUserKey(const std::string& username, const IpAddress& ip) {
  std::string key = username;
  key.push_back('\0');
  key += ip.toString();
  return key;
}

/// Live allocations per (credential, client IP) (keys: perUserKey) and per
/// client IP: one node's share, or the sum over the other nodes of a fleet
/// (docs/fleet.md).
struct QuotaCounts {
  std::unordered_map<std::string, size_t> users;
  std::unordered_map<IpAddress, size_t> ips;
  bool operator==(const QuotaCounts&) const = default;
};

}  // namespace tw::policy
