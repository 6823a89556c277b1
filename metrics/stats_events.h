#pragma once
// The RelayEvents sink that counts for Prometheus: one per worker, called on
// that worker's loop thread only, so it writes plain integers.
#include "metrics/worker_stats.h"
#include "relay/base/clock.h"
#include "relay/turn/allocation_table.h"
#include "relay/turn/events.h"

namespace tw::metrics {

class StatsEvents final : public turn::RelayEvents {
 public:
  explicit StatsEvents(const Clock& clock) : clock_(clock) {}

  void onAllocationCreated(const turn::Allocation& a) override;
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override;
  void onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple& t) override;
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) override;
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override;
  void onRequestDuration(stun::Method m, std::chrono::nanoseconds d) override;
  void onBanned(const SocketAddress&, Duration) override { ++stats_.bans; }
  void onVolumeExceeded(const turn::Allocation&, uint64_t, uint64_t) override { ++stats_.volumeLimited; }

  const WorkerStats& stats() const { return stats_; }

 private:
  const Clock& clock_;
  WorkerStats stats_;
};

/// The result_code label of a request: "200" for success, "dropped" for a
/// request that got no answer, else the STUN error code.
std::string resultCode(int code, std::string_view reason);
/// The result label of allocations_total for an Allocate answered with `code`.
std::string_view allocationResult(int code);
/// "ipv4" / "ipv6".
std::string_view familyLabel(Family f);

/// Copies what a worker has counted and samples its allocation table; must
/// run on that worker's loop thread.
WorkerSnapshot takeSnapshot(const turn::WorkerCounters& counters, const StatsEvents& stats,
                            turn::AllocationTable& table);

}  // namespace tw::metrics
