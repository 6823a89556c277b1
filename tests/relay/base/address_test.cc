#include "relay/base/address.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <unordered_set>

using tw::IpAddress;
using tw::SocketAddress;

TEST_CASE("IPv4 parse and print round-trip") {
  auto a = IpAddress::parse("192.0.2.1");
  REQUIRE(a);
  CHECK(a->isV4());
  CHECK(a->v4Value() == 0xC0000201u);
  CHECK(a->toString() == "192.0.2.1");
  CHECK_FALSE(IpAddress::parse("256.1.1.1"));
  CHECK_FALSE(IpAddress::parse("1.2.3"));
  CHECK_FALSE(IpAddress::parse(""));
}

TEST_CASE("IPv6 parse, numeric value and print") {
  auto a = IpAddress::parse("::ffff:127.0.0.1");
  REQUIRE(a);
  CHECK(a->isV6());
  CHECK(a->v6Value() == ((tw::U128{0xffff} << 32) | 0x7f000001u));
  CHECK(a->toString() == "::ffff:127.0.0.1");
  CHECK(IpAddress::parse("::")->isUnspecified());
  CHECK(IpAddress::v6(a->v6Value()) == *a);
  CHECK_FALSE(IpAddress::parse("fe80::1%eth0"));
  CHECK_FALSE(IpAddress::parse("1::2::3"));
}

TEST_CASE("IPv4 and IPv6 never compare equal") { CHECK(IpAddress::v4(0) != *IpAddress::parse("::")); }

TEST_CASE("SocketAddress text and sockaddr round-trip") {
  auto v4 = SocketAddress::parse("10.1.2.3:3478");
  REQUIRE(v4);
  CHECK(v4->port == 3478);
  CHECK(v4->toString() == "10.1.2.3:3478");
  auto v6 = SocketAddress::parse("[2001:db8::1]:5349");
  REQUIRE(v6);
  CHECK(v6->toString() == "[2001:db8::1]:5349");
  for (const auto& sa : {*v4, *v6}) {
    sockaddr_storage ss;
    sa.toSockaddr(ss);
    auto back = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
    REQUIRE(back);
    CHECK(*back == sa);
  }
  CHECK_FALSE(SocketAddress::parse("1.2.3.4"));
  CHECK_FALSE(SocketAddress::parse("1.2.3.4:65536"));
  CHECK_FALSE(SocketAddress::parse("::1:80"));
  CHECK_FALSE(SocketAddress::parse("[::1]80"));
}

TEST_CASE("FiveTuple hashing separates transports and ports") {
  auto c = *SocketAddress::parse("127.0.0.1:5000");
  auto s = *SocketAddress::parse("127.0.0.1:3478");
  std::unordered_set<tw::FiveTuple> set;
  set.insert({c, s, tw::Transport::Udp});
  set.insert({c, s, tw::Transport::Tcp});
  set.insert({*SocketAddress::parse("127.0.0.1:5001"), s, tw::Transport::Udp});
  set.insert({c, s, tw::Transport::Udp});
  CHECK(set.size() == 3);
}
