#include "metrics/destination_tracker.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

using namespace tw;
using namespace tw::metrics;

namespace {

SocketAddress at(const std::string& ip, uint16_t port) { return SocketAddress{*IpAddress::parse(ip), port}; }

/// Ports of 198.51.100.7 that share a bit with port 1 under `seed`.
std::vector<uint16_t> collidingWithPortOne(uint64_t seed) {
  std::vector<uint16_t> out;
  for (uint32_t p = 2; p <= 65535; ++p) {
    DestinationTracker t;
    t.reseed(seed);
    t.note(at("198.51.100.7", 1));
    t.note(at("198.51.100.7", uint16_t(p)));
    if (t.distinct() == 1) out.push_back(uint16_t(p));
  }
  return out;
}

}  // namespace

TEST_CASE("destination tracker: repeats count once, ports, IPs and families count apart") {
  DestinationTracker t;
  t.reseed(0x1234);
  CHECK(t.distinct() == 0);
  for (int i = 0; i < 100; ++i) t.note(at("198.51.100.7", 5000));
  CHECK(t.distinct() == 1);
  CHECK(t.last() == at("198.51.100.7", 5000));
  t.note(at("198.51.100.7", 5001));
  t.note(at("198.51.100.8", 5000));
  t.note(at("2001:db8::7", 5000));
  // Under this seed these four do not collide (a collision would undercount).
  CHECK(t.distinct() == 4);
  CHECK(t.last() == at("2001:db8::7", 5000));
}

TEST_CASE("destination tracker: a port scan counts close to its size, never above it") {
  for (uint64_t seed : {1ULL, 42ULL, 0xdeadbeefULL}) {
    for (uint32_t n : {20u, 100u, 600u}) {
      DestinationTracker t;
      t.reseed(seed);
      for (uint32_t p = 0; p < n; ++p) t.note(at("127.0.0.1", uint16_t(10000 + p)));
      INFO("seed " << seed << " n " << n << " counted " << t.distinct());
      CHECK(t.distinct() <= n);
      // Expected bits set: kBits * (1 - e^(-n/kBits)); allow 5% and three
      // collisions below that (small n: a couple of collisions are common).
      const double m = DestinationTracker::kBits;
      CHECK(double(t.distinct()) >= 0.95 * m * (1 - std::exp(-double(n) / m)) - 3);
    }
  }
}

TEST_CASE("destination tracker: the count stops at kBits however many destinations") {
  DestinationTracker t;
  t.reseed(7);
  for (uint32_t p = 1; p <= 65535; ++p) t.note(at("127.0.0.1", uint16_t(p)));
  CHECK(t.distinct() <= DestinationTracker::kBits);
  CHECK(t.distinct() >= DestinationTracker::kBits - 2);  // 64 destinations per bit on average
}

TEST_CASE("destination tracker: the seed decides which ports collide") {
  const std::vector<uint16_t> same = collidingWithPortOne(1);
  // 65534 ports over 1024 bits: about 64 share port 1's bit.
  REQUIRE(same.size() > 20);
  REQUIRE(same.size() < 200);
  // A client that picked exactly those ports to hide a scan under seed 1
  // is seen under another seed.
  DestinationTracker t;
  t.reseed(2);
  t.note(at("198.51.100.7", 1));
  for (uint16_t p : same) t.note(at("198.51.100.7", p));
  CHECK(t.distinct() > same.size() / 2);
}

TEST_CASE("destination tracker: windows roll on time and restart clears at once") {
  ManualClock clock;
  const Duration window = std::chrono::seconds(60);
  DestinationTracker t;
  t.reseed(99);
  t.note(at("127.0.0.1", 1));
  CHECK_FALSE(t.roll(clock.now(), window));  // the first call marks the start
  CHECK(t.distinct() == 1);
  t.note(at("127.0.0.1", 2));
  clock.advance(std::chrono::seconds(59));
  CHECK_FALSE(t.roll(clock.now(), window));
  CHECK(t.distinct() == 2);
  clock.advance(std::chrono::seconds(1));
  CHECK(t.roll(clock.now(), window));
  CHECK(t.distinct() == 0);
  t.note(at("127.0.0.1", 1));  // the same destination is new in a new window
  CHECK(t.distinct() == 1);
  t.restart(clock.now());
  CHECK(t.distinct() == 0);
  clock.advance(std::chrono::seconds(59));
  CHECK_FALSE(t.roll(clock.now(), window));  // restart began a full window
}
