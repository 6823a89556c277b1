#include "relay/turn/port_pool.h"

#include <catch2/catch.hpp>
#include <set>

using namespace tw;
using tw::turn::PortPool;

TEST_CASE("PortPool hands out every port once, then reports exhaustion") {
  PortPool pool(50000, 50009);
  SeededRandom rng(7);
  ManualClock clock;
  std::set<uint16_t> seen;
  for (int i = 0; i < 10; ++i) {
    auto lease = pool.acquire(rng, false, false, clock.now());
    REQUIRE(lease);
    CHECK(lease->port >= 50000);
    CHECK(lease->port <= 50009);
    CHECK(seen.insert(lease->port).second);
    CHECK(pool.isLive(lease->port));
  }
  CHECK_FALSE(pool.acquire(rng, false, false, clock.now()));
  pool.release(50003);
  CHECK(pool.acquire(rng, false, false, clock.now())->port == 50003);
}

TEST_CASE("PortPool even ports, reservations and their expiry") {
  PortPool pool(50000, 50003);
  SeededRandom rng(1);
  ManualClock clock;
  auto lease = pool.acquire(rng, true, true, clock.now());
  REQUIRE(lease);
  CHECK(lease->port % 2 == 0);
  REQUIRE(lease->token);
  CHECK(pool.inUse() == 2);
  CHECK(pool.redeem(*lease->token + 1, clock.now()) == std::nullopt);
  clock.advance(std::chrono::seconds(31));
  pool.expireReservations(clock.now());
  CHECK(pool.inUse() == 1);
  CHECK(pool.redeem(*lease->token, clock.now()) == std::nullopt);
}

TEST_CASE("PortPool redeem hands the reserved port over exactly once") {
  PortPool pool(50000, 50001);
  SeededRandom rng(3);
  ManualClock clock;
  auto lease = pool.acquire(rng, true, true, clock.now());
  REQUIRE(lease);
  CHECK(pool.redeem(*lease->token, clock.now()) == 50001);
  CHECK(pool.redeem(*lease->token, clock.now()) == std::nullopt);
  CHECK(pool.inUse() == 2);
}

TEST_CASE("PortPool quarantine holds a port until it expires") {
  PortPool pool(50000, 50000);
  SeededRandom rng(3);
  ManualClock clock;
  pool.quarantine(50000, clock.now() + std::chrono::seconds(60));
  CHECK_FALSE(pool.acquire(rng, false, false, clock.now()));
  clock.advance(std::chrono::seconds(61));
  pool.expireReservations(clock.now());
  CHECK(pool.acquire(rng, false, false, clock.now()));
}
