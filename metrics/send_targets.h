#pragma once
// The Send destinations of one worker's allocations, for the relay_scan
// anomaly (a UDP port scan of one permitted host: permissions are per IP, so
// its ports only show on the Send path). A RelayEvents sink in the worker's
// own fan-out: onSendTarget, onAllocationDeleted and the once-a-second
// sample (sampleAllocations) all run on that worker's loop thread, so there
// is no lock, no atomic and no queue push per Send.
//
//   handleSend ──onSendTarget(a, peer)──> FanoutEvents ──> SendTargets
//       entries_[a.id]  (one DestinationTracker per allocation that has sent)
//   collector (1 s, on the worker) ──take(id)──> AllocationSample.sendDistinct
//   onAllocationDeleted(a) ──> entry erased
//
// Cost per Send: one hash lookup and the tracker's O(1) note. Only an
// allocation's first Send allocates (its map entry, keyed from `seeds`, its
// window starting then); allocations that never send cost nothing here.
#include <cstdint>
#include <unordered_map>

#include "metrics/destination_tracker.h"
#include "relay/base/random.h"
#include "relay/turn/events.h"

namespace tw::metrics {

class SendTargets final : public turn::RelayEvents {
 public:
  /// At an allocation's first Send its window starts (`clock`) and `seeds`
  /// keys its hash, so a client cannot choose destinations that collide.
  /// Both outlive this object.
  SendTargets(const Clock& clock, Random& seeds) : clock_(clock), seeds_(seeds) {}

  void onSendTarget(const turn::Allocation& a, const SocketAddress& peer) override;
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override;

  /// Allocation `id`'s distinct Send destinations when they reached
  /// `threshold` (its window then restarts at `now`, so one crossing is
  /// reported once), with the latest one in `last`; else 0, and the window
  /// rolls once `window` has passed. 0 for an allocation that has not sent.
  uint32_t take(uint64_t id, uint32_t threshold, Duration window, Instant now, SocketAddress& last);
  /// Allocation `id`'s distinct Send destinations in its current window
  /// (a lower bound, see DestinationTracker); 0 when it has not sent.
  uint32_t distinct(uint64_t id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? 0 : it->second.distinct();
  }
  /// Allocations with a tracker (those that sent and are not deleted).
  size_t size() const { return entries_.size(); }

 private:
  const Clock& clock_;
  Random& seeds_;
  std::unordered_map<uint64_t, DestinationTracker> entries_;
};

}  // namespace tw::metrics
