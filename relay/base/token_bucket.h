#pragma once
// A token bucket: `rate` tokens per second refill, at most `burst` saved.
// Used for per-IP request rates (rate_limiter.h) and per-allocation
// bandwidth (bytes). Time comes in as an argument, so ManualClock drives it
// in tests. A rate of 0 means "no limit".
#include <algorithm>
#include <cstdint>

#include "relay/base/clock.h"

namespace tw {

struct TokenBucket {
  double tokens = -1;  ///< < 0: never used yet (starts full)
  Instant last{};

  /// Takes `cost` tokens if available; false when over budget (the caller
  /// drops). The bucket starts full so a fresh source gets its burst.
  bool take(double cost, double rate, double burst, Instant now) {
    if (rate <= 0) return true;
    if (tokens < 0) {
      tokens = burst;
    } else {
      const double secs = std::chrono::duration<double>(now - last).count();
      tokens = std::min(burst, tokens + std::max(0.0, secs) * rate);
    }
    last = now;
    if (tokens < cost) return false;
    tokens -= cost;
    return true;
  }
};

}  // namespace tw
