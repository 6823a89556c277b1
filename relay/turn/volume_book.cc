#include "relay/turn/volume_book.h"

#include <algorithm>
#include <chrono>

namespace tw::turn {

int64_t VolumeBook::windowOf(int64_t unixNow, const policy::VolumeLimit& v) {
  const int64_t seconds =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(v.window).count());
  return unixNow / seconds;
}

void VolumeBook::roll(int64_t window) {
  if (window == window_) return;
  bytes_.clear();
  unsent_.clear();
  fleetTotals_.clear();
  window_ = window;
}

uint64_t VolumeBook::usedLocked(const std::string& user) const {
  auto local = bytes_.find(user);
  uint64_t used = local == bytes_.end() ? 0 : local->second;
  if (auto f = fleetTotals_.find(user); f != fleetTotals_.end()) {
    auto pending = unsent_.find(user);
    used = std::max(used, f->second + (pending == unsent_.end() ? 0 : pending->second));
  }
  return used;
}

void VolumeBook::charge(std::span<const VolumeCharge> charges, int64_t unixNow,
                        const policy::VolumeLimit& v) {
  std::lock_guard lock(mu_);
  roll(windowOf(unixNow, v));
  windowSeconds_ = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(v.window).count());
  for (const auto& c : charges) {
    bytes_[c.user] += c.bytes;
    if (fleet_) unsent_[c.user] += c.bytes;
  }
}

std::vector<VolumeCharge> VolumeBook::over(int64_t unixNow, const policy::VolumeLimit& v) const {
  std::vector<VolumeCharge> out;
  std::lock_guard lock(mu_);
  if (v.limit == 0 || window_ != windowOf(unixNow, v)) return out;
  for (const auto& [user, bytes] : bytes_)
    if (usedLocked(user) > v.limit) out.push_back({user, usedLocked(user)});
  for (const auto& [user, total] : fleetTotals_)
    if (!bytes_.count(user) && usedLocked(user) > v.limit) out.push_back({user, usedLocked(user)});
  return out;
}

uint64_t VolumeBook::used(const std::string& user, int64_t unixNow, const policy::VolumeLimit& v) const {
  std::lock_guard lock(mu_);
  if (window_ != windowOf(unixNow, v)) return 0;
  return usedLocked(user);
}

void VolumeBook::enableFleet() {
  std::lock_guard lock(mu_);
  fleet_ = true;
}

VolumeBatch VolumeBook::takeUnsent(bool everyUser) {
  std::lock_guard lock(mu_);
  VolumeBatch b{window_, windowSeconds_, {}};
  for (auto& [user, bytes] : unsent_) b.charges.push_back({user, bytes});
  if (everyUser)
    for (const auto& kv : bytes_)
      if (!unsent_.count(kv.first)) b.charges.push_back({kv.first, 0});
  unsent_.clear();
  return b;
}

void VolumeBook::giveBack(const VolumeBatch& batch) {
  std::lock_guard lock(mu_);
  if (batch.window != window_) return;  // a new window: those bytes no longer count
  for (const auto& c : batch.charges) unsent_[c.user] += c.bytes;
}

void VolumeBook::setFleetTotals(int64_t window, const std::vector<VolumeCharge>& totals) {
  std::lock_guard lock(mu_);
  if (window != window_) return;
  for (const auto& t : totals) fleetTotals_[t.user] = t.bytes;
}

}  // namespace tw::turn
