#pragma once
// The usage metric families (docs/usage.md):
//   turnwarden_usage_top_user_bytes{rank,user}  bytes of the top N users over the
//                                              last usage.interval (N = usage.top_users;
//                                              never more than N series)
//   turnwarden_usage_records_total             records queued for the usage file
//   turnwarden_usage_records_dropped_total     records dropped: the writer's queue was full
// prometheus-cpp stays behind this header.
#include <cstdint>
#include <memory>
#include <vector>

#include "relay/usage/top_users.h"

namespace prometheus {
class Registry;
}

namespace tw::usage {

class UsageMetrics {
 public:
  explicit UsageMetrics(prometheus::Registry& registry);
  ~UsageMetrics();
  /// Replaces the top-users series with `top` (rank 1 = most bytes).
  void setTop(const std::vector<UserBytes>& top);
  /// The writer's running totals; the counters grow by the difference.
  void setRecords(uint64_t written, uint64_t dropped);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::usage
