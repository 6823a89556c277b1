#include "relay/turn/ban_table.h"

#include <catch2/catch.hpp>

using namespace tw;
using tw::turn::BanTable;

namespace {
/// A client source address: bans are per IP and port.
SocketAddress ip(const char* s, uint16_t port = 40000) { return {*IpAddress::parse(s), port}; }
Instant at(int64_t secs) { return Instant{std::chrono::seconds(secs)}; }
policy::BansConfig cfg(uint32_t threshold) {
  policy::BansConfig c;
  c.threshold = threshold;
  c.window = std::chrono::seconds(60);
  c.banFor = std::chrono::minutes(10);
  return c;
}
}  // namespace

TEST_CASE("More than threshold failures within the window bans, the ban expires") {
  BanTable bans(SipKey{42});
  const auto c = cfg(3);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(bans.recordFailure(ip("10.0.0.2"), at(100 + i), c));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.2"), at(103)));
  CHECK(bans.recordFailure(ip("10.0.0.2"), at(104), c));
  CHECK(bans.isBanned(ip("10.0.0.2"), at(105)));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.1"), at(105)));
  auto list = bans.list(at(105));
  REQUIRE(list.size() == 1);
  CHECK(list[0].ip == ip("10.0.0.2").ip);
  CHECK(list[0].port == 40000);
  CHECK(list[0].until == at(104) + std::chrono::minutes(10));
  CHECK(bans.isBanned(ip("10.0.0.2"), at(104 + 599)));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.2"), at(104 + 600)));
  CHECK(bans.list(at(104 + 600)).empty());
}

TEST_CASE("Failures spread beyond the window do not ban") {
  BanTable bans(SipKey{7});
  const auto c = cfg(2);
  for (int i = 0; i < 10; ++i) CHECK_FALSE(bans.recordFailure(ip("10.0.0.3"), at(i * 61), c));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.3"), at(700)));
}

TEST_CASE("A ban can be lifted, and threshold 0 disables bans") {
  BanTable bans(SipKey{9});
  const auto c = cfg(1);
  bans.recordFailure(ip("::1"), at(1), c);
  CHECK(bans.recordFailure(ip("::1"), at(2), c));
  CHECK(bans.isBanned(ip("::1"), at(3)));
  CHECK(bans.lift(ip("::1").ip));
  CHECK_FALSE(bans.lift(ip("::1").ip));
  CHECK_FALSE(bans.isBanned(ip("::1"), at(3)));
  for (int i = 0; i < 100; ++i) CHECK_FALSE(bans.recordFailure(ip("::2"), at(4), cfg(0)));
  CHECK_FALSE(bans.isBanned(ip("::2"), at(5)));
}

TEST_CASE("A failure flood from many sources does not evict an active ban") {
  BanTable bans(SipKey{11}, /*sets=*/4);  // 16 entries
  const auto c = cfg(1);
  bans.recordFailure(ip("10.9.9.9"), at(1), c);
  REQUIRE(bans.recordFailure(ip("10.9.9.9"), at(1), c));
  for (uint32_t i = 0; i < 5000; ++i)
    bans.recordFailure({IpAddress::v4(11, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 1), 5000},
                       at(2), c);
  CHECK(bans.isBanned(ip("10.9.9.9"), at(3)));
  bans.expire(at(3));
  CHECK(bans.isBanned(ip("10.9.9.9"), at(3)));
}

TEST_CASE("A ban started here is reported once for the fleet, an imposed one is not") {
  BanTable bans(SipKey{13});
  const auto c = cfg(1);
  bans.recordFailure(ip("10.1.1.1"), at(1), c);
  CHECK(bans.recordFailure(ip("10.1.1.1"), at(2), c));
  auto fresh = bans.takeNewBans();
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].ip == ip("10.1.1.1").ip);
  CHECK(fresh[0].port == ip("10.1.1.1").port);
  CHECK(fresh[0].until == at(2) + std::chrono::minutes(10));
  CHECK(bans.takeNewBans().empty());
  bans.impose(ip("10.2.2.2"), at(3), at(3) + std::chrono::seconds(30));
  CHECK(bans.takeNewBans().empty());
  CHECK(bans.isBanned(ip("10.2.2.2"), at(32)));
  CHECK_FALSE(bans.isBanned(ip("10.2.2.2", 40001), at(32)));  // the fleet's ban is per source too
  CHECK_FALSE(bans.isBanned(ip("10.2.2.2"), at(33)));
  bans.impose(ip("10.3.3.3"), at(5), at(4));  // already over: nothing
  CHECK_FALSE(bans.isBanned(ip("10.3.3.3"), at(5)));
  CHECK(bans.list(at(5)).size() == 1);
}

TEST_CASE("Bans are per source address: one guesser behind a NAT leaves its neighbours alone") {
  BanTable bans(SipKey{7});
  const auto c = cfg(2);
  for (int i = 0; i < 2; ++i) CHECK_FALSE(bans.recordFailure(ip("10.0.0.9", 5001), at(1), c));
  CHECK(bans.recordFailure(ip("10.0.0.9", 5001), at(1), c));
  CHECK(bans.isBanned(ip("10.0.0.9", 5001), at(2)));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.9", 5002), at(2)));  // same NAT address, another user
  REQUIRE(bans.recordFailure(ip("10.0.0.9", 5003), at(1), c) == false);
  for (int i = 0; i < 2; ++i) bans.recordFailure(ip("10.0.0.9", 5003), at(1), c);
  auto list = bans.list(at(2));
  REQUIRE(list.size() == 2);
  CHECK(list[0].ip == ip("10.0.0.9").ip);
  CHECK(list[0].port != list[1].port);
  CHECK(bans.lift(ip("10.0.0.9").ip));  // lifting an IP lifts every port of it
  CHECK_FALSE(bans.isBanned(ip("10.0.0.9", 5001), at(2)));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.9", 5003), at(2)));
}

TEST_CASE("A guesser rotating addresses inside its IPv6 /64 is banned as one, the next /64 is not") {
  BanTable bans(SipKey{21, 22});
  const auto c = cfg(3);
  for (int i = 1; i <= 3; ++i)
    CHECK_FALSE(bans.recordFailure(ip(("2001:db8:7:7::" + std::to_string(i)).c_str()), at(100), c));
  CHECK(bans.recordFailure(ip("2001:db8:7:7:ffff::9"), at(101), c));
  CHECK(bans.isBanned(ip("2001:db8:7:7::1234"), at(102)));  // any address of that /64, same port
  CHECK_FALSE(bans.isBanned(ip("2001:db8:7:8::1"), at(102)));
  auto list = bans.list(at(102));
  REQUIRE(list.size() == 1);
  CHECK(list[0].ip == ip("2001:db8:7:7::").ip);  // named by its prefix
  CHECK(bans.lift(ip("2001:db8:7:7::42").ip));   // any address of the prefix lifts it
  CHECK_FALSE(bans.isBanned(ip("2001:db8:7:7::1"), at(103)));
  // IPv4 unchanged: 10.0.0.3's failures do not ban 10.0.0.4.
  for (int i = 0; i < 4; ++i) bans.recordFailure(ip("10.0.0.3"), at(110), c);
  CHECK(bans.isBanned(ip("10.0.0.3"), at(111)));
  CHECK_FALSE(bans.isBanned(ip("10.0.0.4"), at(111)));
}
