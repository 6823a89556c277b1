#pragma once
// One worker's usage records (docs/usage.md): a RelayEvents sink in that
// worker's fan-out, run on its loop thread only. It remembers, per live
// allocation, the counters of its previous record, and turns the worker's
// usage ticks (onUsageInterval) and the allocation's end into records,
// which go to the UsageLog's queue; the writer thread formats nothing and
// writes them. Nothing here runs per packet.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "relay/base/clock.h"
#include "relay/turn/allocation.h"
#include "relay/turn/events.h"
#include "relay/usage/record.h"

namespace tw::usage {

/// Where records go (UsageLog; a vector in tests). Called on worker threads.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void put(const UsageRecord& r) = 0;
};

/// Names records: `node` (fleet.node_id or the host name) and `boot` (the
/// process start, Unix seconds) make record ids unique across nodes and restarts.
struct RecordNaming {
  std::string node;
  int64_t boot = 0;
};

/// The record of `a` for the period since `previous` (its totals at the last
/// record, zero for the first), at `unixNow`. `periodStart` is when that was.
UsageRecord buildRecord(const turn::Allocation& a, const RecordNaming& naming, uint32_t seq,
                        const Traffic& previous, int64_t periodStart, int64_t unixNow);
/// `a`'s counters now.
Traffic trafficOf(const turn::Allocation& a);

class UsageRecorder final : public turn::RelayEvents {
 public:
  UsageRecorder(const Clock& clock, RecordNaming naming, RecordSink& sink)
      : clock_(clock), naming_(std::move(naming)), sink_(sink) {}

  void onAllocationCreated(const turn::Allocation& a) override;
  void onUsageInterval(const turn::Allocation& a) override;
  void onAllocationDeleted(const turn::Allocation& a, std::string_view why) override;
  size_t tracked() const { return last_.size(); }

 private:
  struct Last {
    uint32_t seq = 0;  ///< the next record's sequence number
    Traffic traffic;   ///< totals at the previous record
    int64_t at = 0;    ///< when the previous record's period ended
  };
  /// Builds and hands on the next record of `a`; `endReason` makes it the final one.
  void emit(const turn::Allocation& a, std::string_view endReason, bool final);
  /// Unix seconds of `a`'s creation.
  int64_t startOf(const turn::Allocation& a) const;

  const Clock& clock_;
  RecordNaming naming_;
  RecordSink& sink_;
  std::unordered_map<uint64_t, Last> last_;
};

}  // namespace tw::usage
