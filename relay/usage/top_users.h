#pragma once
// The users with the most relayed bytes over the last usage interval
// (usage_top_user_bytes, docs/usage.md). Each allocation counts with its
// latest record (interim or final), as long as that record ended within the
// last interval (plus one second, the workers' tick): a steady user shows
// one interval's bytes, not zero or two intervals' depending on when the
// metric is read. Records arrive from every worker at their usage ticks and
// at allocations' ends, never per packet; memory is one entry per
// allocation with a record in that window.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "relay/base/clock.h"

namespace tw::usage {

using UserBytes = std::pair<std::string, uint64_t>;

class TopUsers {
 public:
  explicit TopUsers(tw::Duration interval) : interval_(interval) {}
  /// Thread-safe: allocation `allocation` of `user` relayed `bytes` in the
  /// period of its latest record, which ended at `unixEnd`.
  void add(uint64_t allocation, const std::string& user, uint64_t bytes, int64_t unixEnd);
  /// The `n` users with the most bytes, most first (ties by name), at `unixNow`.
  std::vector<UserBytes> top(size_t n, int64_t unixNow);

 private:
  struct Latest {
    int64_t at;
    std::string user;
    uint64_t bytes;
  };
  tw::Duration interval_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Latest> latest_;
};

}  // namespace tw::usage
