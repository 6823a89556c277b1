#include "metrics/stats_events.h"

#include "relay/turn/allocation.h"
#include "relay/turn/allocation_table.h"

namespace tw::metrics {

std::string resultCode(int code, std::string_view reason) {
  if (code != 0) return std::to_string(code);
  return reason.empty() ? "200" : "dropped";
}

std::string_view allocationResult(int code) {
  switch (code) {
    case 0:
      return kAllocationResults[0];
    case 401:
    case 438:
      return kAllocationResults[1];
    case 403:
      return kAllocationResults[2];
    case 486:
      return kAllocationResults[3];
    case 508:
      return kAllocationResults[4];
    default:
      return kAllocationResults[5];
  }
}

std::string_view familyLabel(Family f) { return f == Family::V4 ? "ipv4" : "ipv6"; }

void StatsEvents::onAllocationCreated(const turn::Allocation& a) {
  ++stats_.allocations[{std::string(toString(a.tuple.transport)), std::string(allocationResult(0))}];
}

void StatsEvents::onAllocationDeleted(const turn::Allocation& a, std::string_view) {
  const auto lived = std::chrono::duration<double>(clock_.now() - a.created).count();
  observe(stats_.lifetimes, kLifetimeBounds, lived < 0 ? 0 : lived);
}

void StatsEvents::onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple& t) {
  ++stats_.requests[{std::string(stun::toString(m)), resultCode(code, reason)}];
  if (m == stun::Method::Allocate && code != 0)
    ++stats_.allocations[{std::string(toString(t.transport)), std::string(allocationResult(code))}];
  if (code == 486) ++stats_.quotaRejections[std::string(reason)];
}

void StatsEvents::onAuthFailed(std::string_view reason, const FiveTuple&, std::string_view) {
  ++stats_.authFailures[std::string(reason)];
}

void StatsEvents::onPeerDenied(const SocketAddress&, std::string_view rule, const FiveTuple&,
                               std::string_view) {
  ++stats_.peerDenied[std::string(rule)];
}

void StatsEvents::onRequestDuration(stun::Method m, std::chrono::nanoseconds d) {
  observe(stats_.durations[std::string(stun::toString(m))], kRequestBounds,
          std::chrono::duration<double>(d).count());
}

WorkerSnapshot takeSnapshot(const turn::WorkerCounters& counters, const StatsEvents& stats,
                            turn::AllocationTable& table) {
  WorkerSnapshot s{counters, stats.stats(), {}};
  table.forEach([&](turn::Allocation& a) {
    const std::string key =
        std::string(toString(a.tuple.transport)) + "|" + std::string(familyLabel(a.relayed.ip.family()));
    ++s.gauges.allocations[key];
    s.gauges.permissions += a.permissions.size();
    s.gauges.channels += a.channels.size();
  });
  return s;
}

}  // namespace tw::metrics
