// Usage records and per-user volume limits (docs/usage.md, docs/policy.md):
// both run from the worker's 1 s tick over the allocations' own byte and
// packet counters, so the packet path does no extra work for them.
#include <algorithm>

#include "relay/turn/turn_server.h"

namespace tw::turn {

namespace {

const VolumeCharge* findUser(const std::vector<VolumeCharge>& over, const std::string& user) {
  auto it = std::find_if(over.begin(), over.end(), [&](const VolumeCharge& c) { return c.user == user; });
  return it == over.end() ? nullptr : &*it;
}

}  // namespace

void TurnServer::chargeVolume(Instant) {
  const policy::VolumeLimit& v = policy_->quotas.bytesPerUser;
  if (v.limit == 0) return;
  std::vector<VolumeCharge> charges;
  table_.forEach([&](Allocation& a) {
    const uint64_t total = a.bytesToPeer + a.bytesToClient;
    if (total > a.volumeCharged) charges.push_back({a.user, total - a.volumeCharged});
    a.volumeCharged = total;
  });
  const int64_t unixNow = deps_.clock.unixSeconds();
  if (!charges.empty()) shared_->volume.charge(charges, unixNow, v);
  const std::vector<VolumeCharge> over = shared_->volume.over(unixNow, v);
  table_.forEach([&](Allocation& a) {
    const VolumeCharge* o = findUser(over, a.user);
    if (o && !a.overVolume) stopRelaying(a, o->bytes, v.limit);
    if (!o) a.overVolume = false;  // a new window: the user may relay again
  });
}

void TurnServer::settleVolume(Allocation& a) {
  const policy::VolumeLimit& v = policy_->quotas.bytesPerUser;
  const uint64_t total = a.bytesToPeer + a.bytesToClient;
  if (v.limit == 0 || total <= a.volumeCharged) return;
  const VolumeCharge c{a.user, total - a.volumeCharged};
  shared_->volume.charge({&c, 1}, deps_.clock.unixSeconds(), v);
  a.volumeCharged = total;
}

void TurnServer::stopRelaying(Allocation& a, uint64_t used, uint64_t limit) {
  // Without permissions or channels every packet of this allocation is
  // dropped by the checks the packet path makes anyway (no_permission,
  // no_channel), so enforcing the limit costs the packet path nothing.
  a.overVolume = true;
  a.permissions.clear();
  a.channels.clear();
  closeTcpConnections(a);
  deps_.events.onVolumeExceeded(a, used, limit);
}

bool TurnServer::overVolume(const Request& req) const {
  const policy::VolumeLimit& v = policy_->quotas.bytesPerUser;
  if (v.limit == 0) return false;
  const stun::Method m = req.msg.method();
  if (m == stun::Method::Refresh) {
    auto asked = req.msg.lifetime();
    if (asked && *asked == 0) return false;  // deleting is always allowed
  }
  if (req.alloc && req.alloc->overVolume) return true;
  return shared_->volume.isOver(req.auth.user, deps_.clock.unixSeconds(), v);
}

void TurnServer::reportUsage(Instant now) {
  const Duration every = policy_->usageInterval;
  if (every.count() <= 0) return;
  if (nextUsage_ == Instant{}) nextUsage_ = now + every;
  if (now < nextUsage_) return;
  nextUsage_ = now + every;
  table_.forEach([&](Allocation& a) { deps_.events.onUsageInterval(a); });
}

}  // namespace tw::turn
