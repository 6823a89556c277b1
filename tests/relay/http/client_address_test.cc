// Who is asking behind reverse proxies (relay/http/client_address.h): the
// right-most untrusted address, and only when the TCP peer is trusted.
#include "relay/http/client_address.h"

#include <catch2/catch.hpp>

namespace tw::http {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

policy::TrustedProxies trusted(std::initializer_list<const char*> ranges) {
  policy::TrustedProxies t;
  for (const char* r : ranges) t.ranges.push_back(policy::IpRange::parse(r).value());
  return t;
}

const policy::TrustedProxies kProxies = trusted({"10.0.0.0/24", "2001:db8:ffff::/48"});

}  // namespace

TEST_CASE("client address: an untrusted peer is the client, whatever it forwards") {
  CHECK(clientAddress(ip("192.0.2.9"), "", "203.0.113.1", kProxies) == ip("192.0.2.9"));
  CHECK(clientAddress(ip("192.0.2.9"), "for=203.0.113.1", "", kProxies) == ip("192.0.2.9"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1", {}) == ip("10.0.0.5"));  // nobody trusted
}

TEST_CASE("client address: a trusted peer's X-Forwarded-For, right-most untrusted") {
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1", kProxies) == ip("203.0.113.1"));
  // The client wrote "1.1.1.1" itself; the proxy appended the real address.
  CHECK(clientAddress(ip("10.0.0.5"), "", "1.1.1.1, 203.0.113.1", kProxies) == ip("203.0.113.1"));
  // Two proxies: the inner one (10.0.0.7) is skipped.
  CHECK(clientAddress(ip("10.0.0.5"), "", "1.1.1.1, 203.0.113.1,10.0.0.7", kProxies) == ip("203.0.113.1"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1:5555", kProxies) == ip("203.0.113.1"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "2001:db8::7", kProxies) == ip("2001:db8::7"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "[2001:db8::7]:443", kProxies) == ip("2001:db8::7"));
  CHECK(clientAddress(ip("2001:db8:ffff::1"), "", "198.51.100.3", kProxies) == ip("198.51.100.3"));
}

TEST_CASE("client address: a trusted peer without a header, or with only trusted hops") {
  CHECK(clientAddress(ip("10.0.0.5"), "", "", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "10.0.0.8, 10.0.0.7", kProxies) == ip("10.0.0.8"));
}

TEST_CASE("client address: an entry that is not an address stops at the hop that wrote it") {
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1, unknown", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1, garbage, 10.0.0.7", kProxies) == ip("10.0.0.7"));
  CHECK(clientAddress(ip("10.0.0.5"), "", ",", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "for=_hidden", "", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "[2001:db8::7", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "", "203.0.113.1:99999", kProxies) == ip("10.0.0.5"));
}

TEST_CASE("client address: Forwarded (RFC 7239) for= values, quoted and with ports") {
  CHECK(clientAddress(ip("10.0.0.5"), "for=203.0.113.1;proto=https", "", kProxies) == ip("203.0.113.1"));
  CHECK(clientAddress(ip("10.0.0.5"), "For=\"[2001:db8::7]:4711\"", "", kProxies) == ip("2001:db8::7"));
  CHECK(clientAddress(ip("10.0.0.5"), "for=1.1.1.1, for=203.0.113.1;by=10.0.0.5", "", kProxies) ==
        ip("203.0.113.1"));
  CHECK(clientAddress(ip("10.0.0.5"), "proto=https", "", kProxies) == ip("10.0.0.5"));  // no for=
}

TEST_CASE("client address: both headers naming different clients fall back to the peer") {
  // The proxy writes X-Forwarded-For; the client forged a Forwarded header.
  CHECK(clientAddress(ip("10.0.0.5"), "for=1.1.1.1", "203.0.113.1", kProxies) == ip("10.0.0.5"));
  CHECK(clientAddress(ip("10.0.0.5"), "for=203.0.113.1", "203.0.113.1", kProxies) == ip("203.0.113.1"));
}

TEST_CASE("client address: at most 64 hops are read from the right") {
  std::string xff = "203.0.113.1";
  for (int i = 0; i < 70; ++i) xff += ", 10.0.0.9";
  CHECK(clientAddress(ip("10.0.0.5"), "", xff, kProxies) == ip("10.0.0.9"));
}

}  // namespace tw::http
