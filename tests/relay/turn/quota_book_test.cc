#include "relay/turn/quota_book.h"

#include <catch2/catch.hpp>

using namespace tw;
using tw::turn::QuotaBook;
using tw::turn::QuotaRefusal;

namespace {
IpAddress ip(const char* s) { return *IpAddress::parse(s); }

/// Count limits as given (0: off), no bandwidth limits.
policy::QuotasConfig counts(size_t perUser, size_t perIp, size_t total) {
  policy::QuotasConfig q;
  q.perUser = perUser;
  q.perIp = perIp;
  q.total = total;
  q.maxBps = 0;
  return q;
}
}  // namespace

TEST_CASE("QuotaBook refuses per user, per IP and in total, and recovers on release") {
  QuotaBook book;
  const policy::QuotasConfig q = counts(2, 3, 4);
  REQUIRE(book.acquire("alice", ip("10.0.0.1"), 0, q).ok());
  REQUIRE(book.acquire("alice", ip("10.0.0.1"), 0, q).ok());
  auto third = book.acquire("alice", ip("10.0.0.1"), 0, q);
  REQUIRE_FALSE(third.ok());
  CHECK(third.error() == QuotaRefusal::PerUser);
  CHECK(toString(third.error()) == "user_quota");

  REQUIRE(book.acquire("bob", ip("10.0.0.2"), 0, q).ok());
  REQUIRE(book.acquire("carol", ip("10.0.0.1"), 0, q).ok());
  CHECK(book.total() == 4);
  auto overTotal = book.acquire("dave", ip("10.0.0.9"), 0, q);
  REQUIRE_FALSE(overTotal.ok());
  CHECK(overTotal.error() == QuotaRefusal::Total);

  book.release("carol", ip("10.0.0.1"), 0);
  CHECK(book.forIp(ip("10.0.0.1")) == 2);
  book.release("alice", ip("10.0.0.1"), 0);
  REQUIRE(book.acquire("dave", ip("10.0.0.1"), 0, q).ok());
  REQUIRE(book.acquire("erin", ip("10.0.0.1"), 0, q).ok());
  auto overIp = book.acquire("frank", ip("10.0.0.1"), 0, q);
  REQUIRE_FALSE(overIp.ok());
  // total is 4 again here, and checked first
  CHECK(overIp.error() == QuotaRefusal::Total);
}

TEST_CASE("QuotaBook per-IP limit") {
  QuotaBook book;
  const policy::QuotasConfig q = counts(0, 2, 0);
  REQUIRE(book.acquire("a", ip("2001:db8::1"), 0, q).ok());
  REQUIRE(book.acquire("b", ip("2001:db8::1"), 0, q).ok());
  auto r = book.acquire("c", ip("2001:db8::1"), 0, q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == QuotaRefusal::PerIp);
  CHECK(book.acquire("c", ip("2001:db8:0:1::1"), 0, q).ok());  // another /64
  CHECK(book.forUser("a", ip("2001:db8::1")) == 1);
}

TEST_CASE("QuotaBook total_bps is the sum of reserved max_bps") {
  QuotaBook book;
  policy::QuotasConfig q;
  q.maxBps = 1000;
  q.totalBps = 2500;
  REQUIRE(book.acquire("a", ip("10.0.0.1"), 1000, q).ok());
  REQUIRE(book.acquire("b", ip("10.0.0.2"), 1000, q).ok());
  CHECK(book.reservedBps() == 2000);
  auto r = book.acquire("c", ip("10.0.0.3"), 1000, q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == QuotaRefusal::TotalBps);
  book.release("a", ip("10.0.0.1"), 1000);
  CHECK(book.acquire("c", ip("10.0.0.3"), 1000, q).ok());
  CHECK(book.reservedBps() == 2000);
}

TEST_CASE("QuotaBook forgets users and IPs with no live allocation") {
  QuotaBook book;
  policy::QuotasConfig q;
  for (int i = 0; i < 1000; ++i) {
    const std::string user = "u" + std::to_string(i);
    // per_user is 50 by default: acquiring and releasing never accumulates.
    REQUIRE(book.acquire("1700000000:webrtc", ip("10.0.0.1"), 0, q).ok());
    book.release("1700000000:webrtc", ip("10.0.0.1"), 0);
    REQUIRE(book.acquire(user, ip("10.0.0.1"), 0, q).ok());
    book.release(user, ip("10.0.0.1"), 0);
  }
  CHECK(book.total() == 0);
  CHECK(book.forIp(ip("10.0.0.1")) == 0);
}

TEST_CASE("QuotaBook adds the other fleet nodes' counts to per_user and per_ip, not to total") {
  QuotaBook book;
  const policy::QuotasConfig q = counts(2, 3, 1);
  const uint64_t before = book.changes();
  // The fleet's per_user counts use the same key: one credential from one IP.
  book.setFleetCounts({{{policy::perUserKey("alice", ip("10.0.0.9")), 2}}, {{ip("10.0.0.1"), 3}}});
  auto user = book.acquire("alice", ip("10.0.0.9"), 0, q);
  REQUIRE_FALSE(user.ok());
  CHECK(user.error() == QuotaRefusal::PerUser);
  auto perIp = book.acquire("bob", ip("10.0.0.1"), 0, q);
  REQUIRE_FALSE(perIp.ok());
  CHECK(perIp.error() == QuotaRefusal::PerIp);
  CHECK(book.changes() == before);                          // refusals change nothing
  REQUIRE(book.acquire("bob", ip("10.0.0.2"), 0, q).ok());  // total counts this node only
  CHECK(book.changes() == before + 1);
  const auto mine = book.localCounts();
  CHECK(mine.users ==
        std::unordered_map<std::string, size_t>{{policy::perUserKey("bob", ip("10.0.0.2")), 1}});
  CHECK(mine.ips.at(ip("10.0.0.2")) == 1);
  book.setFleetCounts({});  // the other node lapsed
  book.release("bob", ip("10.0.0.2"), 0);
  CHECK(book.changes() == before + 2);
  REQUIRE(book.acquire("alice", ip("10.0.0.1"), 0, q).ok());
  book.release("alice", ip("10.0.0.1"), 0);
  // alice's allocations elsewhere in the fleet were from 10.0.0.9: from
  // another address the same credential is someone else.
  book.setFleetCounts({{{policy::perUserKey("alice", ip("10.0.0.9")), 2}}, {}});
  CHECK(book.acquire("alice", ip("10.0.0.8"), 0, q).ok());
}

TEST_CASE("QuotaBook per_user counts one credential from one address (shared NAT, shared names)") {
  QuotaBook book;
  const policy::QuotasConfig q;  // defaults: per_user 50, per_ip off
  CHECK(q.perIp == 0);
  // 300 users behind one NAT address, each with its own credential.
  for (int i = 0; i < 300; ++i)
    REQUIRE(book.acquire(std::to_string(1700000000 + i) + ":webrtc", ip("203.0.113.9"), 0, q).ok());
  CHECK(book.forIp(ip("203.0.113.9")) == 300);
  // One credential from one address is one client: bounded.
  for (size_t i = 0; i < q.perUser; ++i)
    REQUIRE(book.acquire("1800000000:webrtc", ip("10.0.0.1"), 0, q).ok());
  auto r = book.acquire("1800000000:webrtc", ip("10.0.0.1"), 0, q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == QuotaRefusal::PerUser);
  // The same credential handed to someone at another address is someone else.
  CHECK(book.acquire("1800000000:webrtc", ip("10.0.0.2"), 0, q).ok());
  CHECK(book.forUser("1800000000:webrtc", ip("10.0.0.1")) == q.perUser);
}

TEST_CASE("QuotaBook: per_ip counts an IPv6 /64 as one client, IPv4 addresses apart") {
  QuotaBook book(SipKey{3, 4});
  const policy::QuotasConfig q = counts(0, 2, 0);
  REQUIRE(book.acquire("a", ip("2001:db8:5:5::1"), 0, q).ok());
  REQUIRE(book.acquire("b", ip("2001:db8:5:5::2"), 0, q).ok());
  auto third = book.acquire("c", ip("2001:db8:5:5:abcd::3"), 0, q);
  REQUIRE_FALSE(third.ok());
  CHECK(third.error() == QuotaRefusal::PerIp);
  CHECK(book.forIp(ip("2001:db8:5:5::9")) == 2);
  CHECK(book.acquire("c", ip("2001:db8:5:6::1"), 0, q).ok());  // the next /64
  // Released under the same key it was acquired with.
  book.release("a", ip("2001:db8:5:5::1"), 0);
  CHECK(book.forIp(ip("2001:db8:5:5::2")) == 1);
  CHECK(book.acquire("c", ip("2001:db8:5:5::3"), 0, q).ok());
  REQUIRE(book.acquire("d", ip("192.0.2.1"), 0, q).ok());
  REQUIRE(book.acquire("e", ip("192.0.2.1"), 0, q).ok());
  CHECK_FALSE(book.acquire("f", ip("192.0.2.1"), 0, q).ok());
  CHECK(book.acquire("f", ip("192.0.2.2"), 0, q).ok());
}
