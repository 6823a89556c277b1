#pragma once
// Which worker a piece of state belongs to. Allocation ids carry their
// worker, so the admin API and the anomaly detector find the owner of an id
// without asking every worker: id = (sequence - 1) * count + index + 1. With
// one worker ids are 1, 2, 3, ... as before.
#include <cstdint>

namespace tw::turn {

struct WorkerId {
  uint32_t index = 0;  ///< 0 .. count-1
  uint32_t count = 1;

  /// The allocation id of this worker's `sequence`-th allocation (from 1).
  uint64_t allocationId(uint64_t sequence) const { return (sequence - 1) * count + index + 1; }
  /// The worker that owns allocation `id` (id >= 1).
  static uint32_t ownerOf(uint64_t id, uint32_t count) {
    return count == 0 ? 0 : static_cast<uint32_t>((id - 1) % count);
  }
};

}  // namespace tw::turn
