#include "relay/turn/rate_limiter.h"

namespace tw::turn {

bool RateLimiter::allow(const SocketAddress& source, Instant now, Pick which,
                        const policy::RateConfig& perSource, const policy::RateConfig& perIp) {
  const SocketAddress client = clientKey(source, v6Prefix_);
  if (perSource.rate != 0 &&
      !(perSource_.touch(client, now).value.*which).take(1, perSource.rate, perSource.burst, now))
    return false;  // not charged to the IP: one socket cannot starve its NAT neighbours
  if (perIp.rate == 0) return true;
  return (perIp_.touch(client.ip, now).value.*which).take(1, perIp.rate, perIp.burst, now);
}

bool RateLimiter::allowRequest(const SocketAddress& source, Instant now,
                               const policy::RateLimitsConfig& cfg) {
  return allow(source, now, &Buckets::requests, cfg.requestsPerSource, cfg.requestsPerIp);
}

bool RateLimiter::allowUnauthenticated(const SocketAddress& source, Instant now,
                                       const policy::RateLimitsConfig& cfg) {
  return allow(source, now, &Buckets::unauthenticated, cfg.unauthenticatedPerSource,
               cfg.unauthenticatedPerIp);
}

}  // namespace tw::turn
