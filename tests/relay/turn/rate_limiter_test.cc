#include "relay/turn/rate_limiter.h"

#include <catch2/catch.hpp>

using namespace tw;
using tw::turn::RateLimiter;
using tw::turn::TokenBucket;

namespace {
Instant at(int64_t ms) { return Instant{std::chrono::milliseconds(ms)}; }
policy::RateLimitsConfig limits(uint32_t rate, uint32_t burst) {
  policy::RateLimitsConfig c;
  c.requestsPerIp = {rate, burst};
  c.unauthenticatedPerIp = {rate, burst};
  return c;
}
}  // namespace

TEST_CASE("TokenBucket: starts full, refills at rate, never above burst") {
  TokenBucket b;
  CHECK(b.take(600, 1000, 1000, at(0)));
  CHECK_FALSE(b.take(600, 1000, 1000, at(0)));
  CHECK(b.take(400, 1000, 1000, at(0)));
  CHECK_FALSE(b.take(1, 1000, 1000, at(0)));
  CHECK(b.take(500, 1000, 1000, at(500)));
  CHECK(b.take(1000, 1000, 1000, at(60'000)));  // long idle: capped at burst
  CHECK_FALSE(b.take(1, 1000, 1000, at(60'000)));
  TokenBucket unlimited;
  for (int i = 0; i < 100; ++i) CHECK(unlimited.take(1e9, 0, 0, at(0)));
}

TEST_CASE("RateLimiter: burst then rate per IP, IPs independent") {
  RateLimiter r(1);
  const auto c = limits(2, 3);
  const auto a = *IpAddress::parse("10.0.0.1");
  const auto b = *IpAddress::parse("10.0.0.2");
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += r.allowRequest(a, at(0), c);
  CHECK(passed == 3);
  CHECK(r.allowRequest(b, at(0), c));
  CHECK_FALSE(r.allowRequest(a, at(100), c));
  CHECK(r.allowRequest(a, at(500), c));  // 0.5 s at 2/s = 1 token
  CHECK(r.allowUnauthenticated(a, at(500), c));  // separate bucket
  CHECK(r.allowRequest(a, at(0), limits(0, 0)));  // rate 0: unlimited
}

TEST_CASE("RateLimiter memory is fixed whatever the number of sources") {
  RateLimiter r(5, /*sets=*/16);
  CHECK(r.capacity() == 64);
  const auto c = limits(1, 1);
  for (uint32_t i = 0; i < 100000; ++i)
    r.allowRequest(IpAddress::v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                                 static_cast<uint8_t>(i)),
                   at(0), c);
  CHECK(r.capacity() == 64);
  // A recently seen source is still tracked (and limited) after the flood.
  const auto v = *IpAddress::parse("192.0.2.1");
  CHECK(r.allowRequest(v, at(1), c));
  CHECK_FALSE(r.allowRequest(v, at(1), c));
}
