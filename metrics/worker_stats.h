#pragma once
// What one worker has counted since it started, as plain integers. The
// worker's StatsEvents writes it on the loop thread only (no atomics, no
// locks); about once a second a copy is taken on that thread (Worker::post)
// and handed to the MetricsFolder, which adds the growth since the previous
// copy to the Prometheus registry.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "relay/turn/counters.h"

namespace tw::metrics {

/// Fixed histogram layout: `kBounds` upper bounds (seconds) plus +Inf.
template <size_t N>
struct Buckets {
  std::array<uint64_t, N + 1> counts{};
  double sum = 0;
  uint64_t count = 0;
};

/// request_duration_seconds bounds: 10 us .. 100 ms.
inline constexpr std::array<double, 9> kRequestBounds{0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                                      0.0005,  0.001,    0.01,    0.1};
/// allocation_lifetime_seconds bounds: 1 s .. 1 day.
inline constexpr std::array<double, 8> kLifetimeBounds{1, 10, 60, 300, 600, 1800, 3600, 86400};

using RequestBuckets = Buckets<kRequestBounds.size()>;
using LifetimeBuckets = Buckets<kLifetimeBounds.size()>;

/// Adds one observation to a histogram laid out by `bounds`.
template <size_t N>
void observe(Buckets<N>& b, const std::array<double, N>& bounds, double value) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  ++b.counts[i];
  b.sum += value;
  ++b.count;
}

/// The result label values of allocations_total, declared once: the
/// folder creates every series from this list, allocationResult() picks one.
inline constexpr std::array<std::string_view, 6> kAllocationResults{"success", "unauthorized", "forbidden",
                                                                    "quota",   "capacity",     "error"};

/// Gauges sampled from the worker's allocation table when the copy is taken.
struct WorkerGauges {
  /// allocations_active keyed by "transport|family" (e.g. "udp|ipv4").
  std::map<std::string, uint64_t> allocations;
  uint64_t permissions = 0;
  uint64_t channels = 0;
};

/// Event counts by label values. Every key comes from a bounded set (method
/// names, STUN codes, reason codes, configured rule names), never from a
/// user, address or port.
struct WorkerStats {
  std::map<std::pair<std::string, std::string>, uint64_t> requests;     // {method, result_code}
  std::map<std::string, RequestBuckets> durations;                      // by method
  std::map<std::string, uint64_t> authFailures;                         // by reason
  std::map<std::string, uint64_t> peerDenied;                           // by rule
  std::map<std::pair<std::string, std::string>, uint64_t> allocations;  // {transport, result}
  std::map<std::string, uint64_t> quotaRejections;                      // by quota
  LifetimeBuckets lifetimes;
  uint64_t bans = 0;           // bans this worker started
  uint64_t volumeLimited = 0;  // allocations stopped by quotas.bytes_per_user
};

/// One copy of a worker's state, taken on its loop thread.
struct WorkerSnapshot {
  turn::WorkerCounters counters;
  WorkerStats stats;
  WorkerGauges gauges;
};

}  // namespace tw::metrics
