#include "relay/usage/top_users.h"

#include <algorithm>
#include <chrono>

namespace tw::usage {

void TopUsers::add(uint64_t allocation, const std::string& user, uint64_t bytes, int64_t unixEnd) {
  std::lock_guard lock(mu_);
  latest_[allocation] = Latest{unixEnd, user, bytes};
}

std::vector<UserBytes> TopUsers::top(size_t n, int64_t unixNow) {
  // One more second than the interval: a worker's record can be a tick late.
  const int64_t horizon = unixNow - std::chrono::duration_cast<std::chrono::seconds>(interval_).count() - 1;
  std::unordered_map<std::string, uint64_t> sums;
  {
    std::lock_guard lock(mu_);
    std::erase_if(latest_, [&](const auto& kv) { return kv.second.at < horizon; });
    for (const auto& [id, l] : latest_)
      if (l.bytes != 0) sums[l.user] += l.bytes;
  }
  std::vector<UserBytes> all(sums.begin(), sums.end());
  const auto first = [](const UserBytes& a, const UserBytes& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const size_t keep = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), first);
  all.resize(keep);
  return all;
}

}  // namespace tw::usage
