#include "relay/turn/allocation.h"

#include <catch2/catch.hpp>

using namespace tw;
using namespace tw::turn;

namespace {
SocketAddress sa(const char* s) { return *SocketAddress::parse(s); }
}  // namespace

TEST_CASE("Permissions are per IP, expire, and are capped") {
  Allocation a;
  ManualClock clock;
  const Instant now = clock.now();
  const auto until = now + std::chrono::seconds(300);
  CHECK(a.installPermission(sa("1.2.3.4:1").ip, until, now, 2));
  CHECK(a.hasPermission(sa("1.2.3.4:9999").ip, now));
  CHECK(a.installPermission(sa("1.2.3.5:1").ip, until, now, 2));
  CHECK_FALSE(a.installPermission(sa("1.2.3.6:1").ip, until, now, 2));
  CHECK(a.installPermission(sa("1.2.3.4:1").ip, until, now, 2));  // refresh is fine
  CHECK_FALSE(a.hasPermission(sa("1.2.3.4:1").ip, until));
}

TEST_CASE("Channels pin number and peer through a five-minute cooldown") {
  Allocation a;
  ManualClock clock;
  const Instant t0 = clock.now();
  const auto life = std::chrono::seconds(600);
  REQUIRE(a.bindChannel(0x4000, sa("1.2.3.4:5"), t0 + life, t0, 8) == BindResult::Ok);
  CHECK(a.activeChannel(0x4000, t0));
  CHECK(a.activeChannelFor(sa("1.2.3.4:5"), t0));
  CHECK_FALSE(a.activeChannelFor(sa("1.2.3.4:6"), t0));
  const Instant expired = t0 + life;
  CHECK_FALSE(a.activeChannel(0x4000, expired));
  CHECK(a.bindChannel(0x4000, sa("9.9.9.9:5"), expired + life, expired, 8) == BindResult::NumberTaken);
  CHECK(a.bindChannel(0x4001, sa("1.2.3.4:5"), expired + life, expired, 8) == BindResult::PeerTaken);
  const Instant cooled = expired + kChannelCooldown;
  CHECK(a.bindChannel(0x4000, sa("9.9.9.9:5"), cooled + life, cooled, 8) == BindResult::Ok);
}

TEST_CASE("Channel cap") {
  Allocation a;
  ManualClock clock;
  const Instant t0 = clock.now();
  REQUIRE(a.bindChannel(0x4000, sa("1.1.1.1:1"), t0 + std::chrono::seconds(1), t0, 1) == BindResult::Ok);
  CHECK(a.bindChannel(0x4001, sa("1.1.1.2:1"), t0 + std::chrono::seconds(1), t0, 1) == BindResult::TooMany);
}
