#include "relay/turn/rate_limiter.h"

#include <catch2/catch.hpp>

using namespace tw;
using tw::TokenBucket;
using tw::turn::RateLimiter;

namespace {
Instant at(int64_t ms) { return Instant{std::chrono::milliseconds(ms)}; }
/// Per-IP limits only (per source off).
policy::RateLimitsConfig limits(uint32_t rate, uint32_t burst) {
  policy::RateLimitsConfig c;
  c.requestsPerSource = {0, 0};
  c.unauthenticatedPerSource = {0, 0};
  c.requestsPerIp = {rate, burst};
  c.unauthenticatedPerIp = {rate, burst};
  return c;
}
SocketAddress src(const char* ip, uint16_t port = 40000) { return {*IpAddress::parse(ip), port}; }
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
  RateLimiter r(SipKey{1});
  const auto c = limits(2, 3);
  const auto a = src("10.0.0.1");
  const auto b = src("10.0.0.2");
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += r.allowRequest(a, at(0), c);
  CHECK(passed == 3);
  CHECK(r.allowRequest(b, at(0), c));
  CHECK_FALSE(r.allowRequest(a, at(100), c));
  CHECK(r.allowRequest(a, at(500), c));           // 0.5 s at 2/s = 1 token
  CHECK(r.allowUnauthenticated(a, at(500), c));   // separate bucket
  CHECK(r.allowRequest(a, at(0), limits(0, 0)));  // rate 0: unlimited
}

TEST_CASE("RateLimiter memory is fixed whatever the number of sources") {
  RateLimiter r(SipKey{5}, /*sets=*/16);
  CHECK(r.capacity() == 128);
  auto c = limits(1, 1);
  c.requestsPerSource = {1, 1};
  for (uint32_t i = 0; i < 100000; ++i)
    r.allowRequest({IpAddress::v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                                  static_cast<uint8_t>(i)),
                    static_cast<uint16_t>(i)},
                   at(0), c);
  CHECK(r.capacity() == 128);
  // A recently seen source is still tracked (and limited) after the flood.
  const auto v = src("192.0.2.1");
  CHECK(r.allowRequest(v, at(1), c));
  CHECK_FALSE(r.allowRequest(v, at(1), c));
}

TEST_CASE("RateLimiter: one abusive socket behind a NAT does not drain its neighbours' IP bucket") {
  RateLimiter r(SipKey{3});
  policy::RateLimitsConfig c;
  c.requestsPerSource = {5, 10};
  c.requestsPerIp = {100, 200};
  c.unauthenticatedPerSource = {1, 2};
  c.unauthenticatedPerIp = {10, 20};
  int abuser = 0;
  for (int i = 0; i < 10000; ++i) abuser += r.allowRequest(src("10.0.0.9", 666), at(0), c);
  CHECK(abuser == 10);  // the source burst, then nothing
  // 190 of the IP's 200 are left for everyone else behind that address.
  int others = 0;
  for (uint16_t p = 1000; p < 1190; ++p) others += r.allowRequest(src("10.0.0.9", p), at(0), c);
  CHECK(others == 190);
  CHECK_FALSE(r.allowRequest(src("10.0.0.9", 2000), at(0), c));  // the IP level still binds
  // Unauthenticated: the same two levels.
  int guesses = 0;
  for (int i = 0; i < 1000; ++i) guesses += r.allowUnauthenticated(src("10.0.0.9", 666), at(0), c);
  CHECK(guesses == 2);
  int challenges = 0;
  for (uint16_t p = 1000; p < 1018; ++p) challenges += r.allowUnauthenticated(src("10.0.0.9", p), at(0), c);
  CHECK(challenges == 18);
}

TEST_CASE("RateLimiter: two addresses in one IPv6 /64 share a bucket, another /64 has its own") {
  RateLimiter r(SipKey{4, 5});
  const auto c = limits(1, 3);
  int passed = 0;
  // A host rotating through its /64 (and its ports) draws from one bucket.
  for (int i = 1; i <= 10; ++i)
    passed +=
        r.allowRequest(src(("2001:db8:1:2::" + std::to_string(i)).c_str(), uint16_t(40000 + i)), at(0), c);
  CHECK(passed == 3);
  CHECK(r.allowRequest(src("2001:db8:1:3::1"), at(0), c));  // the next /64 is another client
  // IPv4 is unchanged: each address is its own client.
  for (int i = 0; i < 3; ++i) CHECK(r.allowRequest(src("192.0.2.1"), at(0), c));
  CHECK_FALSE(r.allowRequest(src("192.0.2.1"), at(0), c));
  CHECK(r.allowRequest(src("192.0.2.2"), at(0), c));
  // ipv6_client_prefix: 128 keys IPv6 on the whole address again.
  RateLimiter whole(SipKey{4, 5}, tw::turn::kRateSets, 128);
  for (int i = 0; i < 3; ++i) CHECK(whole.allowRequest(src("2001:db8:1:2::1"), at(0), c));
  CHECK(whole.allowRequest(src("2001:db8:1:2::2"), at(0), c));
}
