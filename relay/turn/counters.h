#pragma once
// Plain per-worker counters. The hot path increments ordinary integers (no
// atomics, no locks); metrics/ folds them into Prometheus about once a second.
#include <array>
#include <cstdint>
#include <string_view>

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
  kCount
};
std::string_view toString(DropReason r);

enum class Direction : uint8_t { ClientToPeer, PeerToClient, kCount };

struct WorkerCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<uint64_t, static_cast<size_t>(Direction::kCount)> relayedBytes{};
  std::array<uint64_t, static_cast<size_t>(Direction::kCount)> relayedPackets{};
  uint64_t requests = 0;
  uint64_t errorResponses = 0;

  void drop(DropReason r) { ++drops[static_cast<size_t>(r)]; }
  void relayed(Direction d, size_t bytes) {
    relayedBytes[static_cast<size_t>(d)] += bytes;
    ++relayedPackets[static_cast<size_t>(d)];
  }
  uint64_t dropped(DropReason r) const { return drops[static_cast<size_t>(r)]; }
};

}  // namespace tw::turn
