#include "relay/turn/rate_limiter.h"

namespace tw::turn {

bool RateLimiter::allowRequest(const IpAddress& ip, Instant now,
                               const policy::RateLimitsConfig& cfg) {
  const auto& c = cfg.requestsPerIp;
  if (c.rate == 0) return true;
  return table_.touch(ip, now).value.requests.take(1, c.rate, c.burst, now);
}

bool RateLimiter::allowUnauthenticated(const IpAddress& ip, Instant now,
                                       const policy::RateLimitsConfig& cfg) {
  const auto& c = cfg.unauthenticatedPerIp;
  if (c.rate == 0) return true;
  return table_.touch(ip, now).value.unauthenticated.take(1, c.rate, c.burst, now);
}

}  // namespace tw::turn
