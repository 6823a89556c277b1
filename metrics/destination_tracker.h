#pragma once
// Distinct (IP, port) destinations of one allocation's Send indications, for
// the relay_scan anomaly (threats.md: a UDP port scan of one permitted host).
// Permissions are per IP, so many ports of one host never show in the
// permission list; this counts them on the Send path.
//
// Cost: O(1) per Send, no allocation: one hash, one bit test, and on a new
// destination one bit set and a counter increment. Memory: a fixed
// kBits-bit set (128 bytes) plus a few words per allocation that has sent
// at least one Send (SendTargets keeps one per such allocation).
//
//   destination --hash(seed)--> bit i of kBits --new?--> distinct_ += 1
//
// The count is a lower bound on the true number of distinct destinations:
// two destinations that hash to the same bit count once (a false negative),
// never the other way, so hashing alone cannot make a detector fire. With n
// distinct destinations about kBits * (1 - e^(-n/kBits)) bits are set: 20
// count as ~19.8, 100 as ~95, and the count stops at kBits. The hash is keyed
// with a random per-allocation seed, so a client cannot pick ports that
// collide to hide a scan. The window (reset) is driven by the worker's
// once-a-second sample (sampleAllocations), not by the packet path.
#include <array>
#include <cstddef>
#include <cstdint>

#include "relay/base/address.h"
#include "relay/base/clock.h"

namespace tw::metrics {

class DestinationTracker {
 public:
  static constexpr size_t kBits = 1024;

  /// A new random seed (at the allocation's first Send) keys the hash.
  void reseed(uint64_t seed) { seed_ = seed; }
  /// Notes one Send destination; O(1), allocation-free.
  void note(const SocketAddress& peer) {
    const size_t bit = slot(peer);
    uint64_t& word = bits_[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    if (word & mask) return;
    word |= mask;
    ++distinct_;
    last_ = peer;
  }
  /// Distinct destinations noted since the window began (a lower bound).
  uint32_t distinct() const { return distinct_; }
  /// The latest new destination (for the anomaly event).
  const SocketAddress& last() const { return last_; }
  /// Starts a new window at `now` once `window` has passed since the
  /// current one began (the first call only marks the start); true when the
  /// counts were cleared.
  bool roll(Instant now, Duration window);
  /// Clears the counts and starts a new window at `now` (after a report).
  void restart(Instant now);

 private:
  size_t slot(const SocketAddress& peer) const;

  std::array<uint64_t, kBits / 64> bits_{};
  uint32_t distinct_ = 0;
  uint64_t seed_ = 0;
  bool started_ = false;
  Instant windowStart_{};
  SocketAddress last_;
};

}  // namespace tw::metrics
