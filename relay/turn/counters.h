#pragma once
// Plain per-worker counters. The hot path increments ordinary integers (no
// atomics, no locks); metrics/ folds them into Prometheus about once a second.
#include <array>
#include <cstdint>
#include <string_view>

#include "relay/base/address.h"

namespace tw::turn {

/// Why a packet was dropped without an answer. Bounded set: usable as a label.
enum class DropReason : uint8_t {
  Malformed,
  NoAllocation,
  NoPermission,
  NoChannel,
  PeerDenied,
  UnexpectedClass,
  Oversize,
  SendFailed,
  RateLimited,
  Banned,
  OverBandwidth,
  WrongTransport,  ///< Send or ChannelData on a TCP (RFC 6062) allocation.
  kCount
};
std::string_view toString(DropReason r);

enum class Direction : uint8_t { ClientToPeer, PeerToClient, kCount };
/// Client transports (tw::Transport: udp, tcp, tls, dtls) for the relayed counts.
constexpr size_t kTransportCount = 4;
static_assert(size_t(Transport::Dtls) + 1 == kTransportCount);
/// Relayed counts by [direction][client transport of the allocation].
using RelayedCounts = std::array<std::array<uint64_t, kTransportCount>, size_t(Direction::kCount)>;

/// Which rate limit dropped a request (rate_limits.requests_per_ip or
/// rate_limits.unauthenticated_per_ip); a bounded label set.
/// Connect: quotas.connects_per_minute, the TCP relay fan-out limit.
enum class RateLimitKind : uint8_t { Requests, Unauthenticated, Connect, kCount };
std::string_view toString(RateLimitKind k);

struct WorkerCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<uint64_t, static_cast<size_t>(RateLimitKind::kCount)> rateLimited{};
  RelayedCounts relayedBytes{};
  RelayedCounts relayedPackets{};
  uint64_t requests = 0;
  uint64_t errorResponses = 0;

  void drop(DropReason r) { ++drops[static_cast<size_t>(r)]; }
  /// `t`: the allocation's client transport (its tuple.transport).
  void relayed(Direction d, Transport t, size_t bytes) {
    relayedBytes[static_cast<size_t>(d)][static_cast<size_t>(t)] += bytes;
    ++relayedPackets[static_cast<size_t>(d)][static_cast<size_t>(t)];
  }
  uint64_t dropped(DropReason r) const { return drops[static_cast<size_t>(r)]; }
  void limited(RateLimitKind k) { ++rateLimited[static_cast<size_t>(k)]; }
};

}  // namespace tw::turn
