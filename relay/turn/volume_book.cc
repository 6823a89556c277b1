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
  window_ = window;
}

void VolumeBook::charge(std::span<const VolumeCharge> charges, int64_t unixNow,
                        const policy::VolumeLimit& v) {
  std::lock_guard lock(mu_);
  roll(windowOf(unixNow, v));
  for (const auto& c : charges) bytes_[c.user] += c.bytes;
}

std::vector<VolumeCharge> VolumeBook::over(int64_t unixNow, const policy::VolumeLimit& v) const {
  std::vector<VolumeCharge> out;
  std::lock_guard lock(mu_);
  if (v.limit == 0 || window_ != windowOf(unixNow, v)) return out;
  for (const auto& [user, bytes] : bytes_)
    if (bytes > v.limit) out.push_back({user, bytes});
  return out;
}

uint64_t VolumeBook::used(const std::string& user, int64_t unixNow,
                          const policy::VolumeLimit& v) const {
  std::lock_guard lock(mu_);
  if (window_ != windowOf(unixNow, v)) return 0;
  auto it = bytes_.find(user);
  return it == bytes_.end() ? 0 : it->second;
}

}  // namespace tw::turn
