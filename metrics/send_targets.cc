#include "metrics/send_targets.h"

#include "relay/turn/allocation.h"

namespace tw::metrics {

void SendTargets::onSendTarget(const turn::Allocation& a, const SocketAddress& peer) {
  auto [it, first] = entries_.try_emplace(a.id);
  if (first) {
    it->second.reseed(seeds_.u64());
    it->second.restart(clock_.now());  // its window starts with its first Send
  }
  it->second.note(peer);
}

void SendTargets::onAllocationDeleted(const turn::Allocation& a, std::string_view) { entries_.erase(a.id); }

uint32_t SendTargets::take(uint64_t id, uint32_t threshold, Duration window, Instant now,
                           SocketAddress& last) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return 0;
  DestinationTracker& t = it->second;
  if (threshold == 0 || t.distinct() < threshold) {
    t.roll(now, window);
    return 0;
  }
  const uint32_t n = t.distinct();
  last = t.last();
  t.restart(now);
  return n;
}

}  // namespace tw::metrics
