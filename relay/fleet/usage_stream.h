#pragma once
// Fleet mode's usage sink (docs/usage.md, "Fleet"): records go to the realm's
// Redis Stream, `XADD turnwarden:REALM:usage MAXLEN ~ N * record JSON`, sent
// by FleetNode on the control loop, never by a worker. Workers hand their
// records to this bounded buffer (one mutex, at their usage tick or an
// allocation's end). While Redis is unreachable it holds up to `capacity`
// records; beyond that the oldest are dropped, counted, and the fleet logs
// how many.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace tw::fleet {

class UsageStream {
 public:
  UsageStream(size_t capacity, uint64_t maxLen) : capacity_(capacity), maxLen_(maxLen) {}
  /// Any thread: one record's JSON line (no trailing newline needed).
  void push(std::string record);
  /// Control loop: up to `max` records, oldest first.
  std::vector<std::string> take(size_t max);
  /// Control loop: records `take` gave that could not be sent, back in front
  /// (as many as fit; the rest count as dropped).
  void giveBack(std::vector<std::string> records);
  /// Records dropped since the last call.
  uint64_t takeDropped();
  size_t size() const;
  /// The stream's MAXLEN ~ (usage.redis_maxlen).
  uint64_t maxLen() const { return maxLen_; }

 private:
  const size_t capacity_;
  const uint64_t maxLen_;
  mutable std::mutex mu_;
  std::deque<std::string> records_;
  uint64_t dropped_ = 0;
};

}  // namespace tw::fleet
