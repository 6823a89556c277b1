#include "metrics/destination_tracker.h"

namespace tw::metrics {

size_t DestinationTracker::slot(const SocketAddress& peer) const {
  // The seed goes through a splitmix64 finaliser together with the address
  // hash, so which destinations share a bit changes with the seed.
  uint64_t v = static_cast<uint64_t>(hashValue(peer)) ^ seed_;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<size_t>((v ^ (v >> 31)) % kBits);
}

bool DestinationTracker::roll(Instant now, Duration window) {
  if (!started_) {
    started_ = true;
    windowStart_ = now;
    return false;
  }
  if (now - windowStart_ < window) return false;
  restart(now);
  return true;
}

void DestinationTracker::restart(Instant now) {
  bits_.fill(0);
  distinct_ = 0;
  started_ = true;
  windowStart_ = now;
}

}  // namespace tw::metrics
