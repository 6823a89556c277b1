#include "policy/ip_range.h"

#include <catch2/catch.hpp>

using tw::Family;
using tw::IpAddress;
using tw::U128;
using tw::policy::IpRange;

namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  REQUIRE(a.has_value());
  return *a;
}

IpRange range(std::string_view text) {
  auto r = IpRange::parse(text);
  INFO(text);
  REQUIRE(r.ok());
  return r.value();
}

std::string parseError(std::string_view text) {
  auto r = IpRange::parse(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

/// Checks first, last, one before first and one after last (when they exist).
void checkEdges(const IpRange& r, std::string_view first, std::string_view last, std::string_view beforeFirst,
                std::string_view afterLast) {
  INFO(r.toString());
  CHECK(r.first() == ip(first));
  CHECK(r.last() == ip(last));
  CHECK(r.contains(ip(first)));
  CHECK(r.contains(ip(last)));
  if (!beforeFirst.empty()) CHECK_FALSE(r.contains(ip(beforeFirst)));
  if (!afterLast.empty()) CHECK_FALSE(r.contains(ip(afterLast)));
}

}  // namespace

TEST_CASE("IPv4 CIDR edges for several prefix lengths") {
  checkEdges(range("10.0.0.0/8"), "10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0");
  checkEdges(range("100.64.0.0/10"), "100.64.0.0", "100.127.255.255", "100.63.255.255", "100.128.0.0");
  checkEdges(range("172.16.0.0/12"), "172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0");
  checkEdges(range("198.18.0.0/15"), "198.18.0.0", "198.19.255.255", "198.17.255.255", "198.20.0.0");
  checkEdges(range("192.0.2.0/24"), "192.0.2.0", "192.0.2.255", "192.0.1.255", "192.0.3.0");
  checkEdges(range("10.1.2.3/32"), "10.1.2.3", "10.1.2.3", "10.1.2.2", "10.1.2.4");
  checkEdges(range("240.0.0.0/4"), "240.0.0.0", "255.255.255.255", "239.255.255.255", "");
  checkEdges(range("0.0.0.0/8"), "0.0.0.0", "0.255.255.255", "", "1.0.0.0");
}

TEST_CASE("IPv4 /0 covers everything IPv4 and nothing IPv6") {
  const IpRange all = range("0.0.0.0/0");
  checkEdges(all, "0.0.0.0", "255.255.255.255", "", "");
  CHECK(all.contains(ip("128.0.0.0")));
  CHECK_FALSE(all.contains(ip("::")));
  CHECK_FALSE(all.contains(ip("::ffff:1.2.3.4")));
  CHECK(all.toString() == "0.0.0.0/0");
}

TEST_CASE("IPv6 CIDR edges for several prefix lengths") {
  checkEdges(range("fc00::/7"), "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::");
  checkEdges(range("fe80::/10"), "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::");
  checkEdges(range("2001:db8::/32"), "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
             "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::");
  checkEdges(range("64:ff9b::/96"), "64:ff9b::", "64:ff9b::ffff:ffff",
             "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "64:ff9b::1:0:0");
  checkEdges(range("100::/64"), "100::", "100::ffff:ffff:ffff:ffff", "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "100:0:0:1::");
  checkEdges(range("::1/128"), "::1", "::1", "::", "::2");
  checkEdges(range("ff00::/8"), "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "");
}

TEST_CASE("IPv6 /0 covers everything IPv6 and nothing IPv4") {
  const IpRange all = range("::/0");
  checkEdges(all, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", "");
  CHECK_FALSE(all.contains(ip("0.0.0.0")));
  CHECK(all.toString() == "::/0");
}

TEST_CASE("IPv6 ranges compare numerically across byte boundaries") {
  // A byte-by-byte compare that stops at the first differing byte in the
  // wrong direction would get these wrong: the low bytes are larger than
  // the range's last address's low bytes, but the high bytes are smaller.
  const IpRange r = range("2001:db8::ff00-2001:db8::1:00ff");
  checkEdges(r, "2001:db8::ff00", "2001:db8::1:ff", "2001:db8::feff", "2001:db8::1:100");
  CHECK(r.contains(ip("2001:db8::ffff")));
  CHECK(r.contains(ip("2001:db8::1:0")));
  CHECK_FALSE(r.contains(ip("2001:db8::1:fe00")));
}

TEST_CASE("a-b ranges") {
  const IpRange v4 = range("10.1.0.1-10.1.0.9");
  checkEdges(v4, "10.1.0.1", "10.1.0.9", "10.1.0.0", "10.1.0.10");
  CHECK(v4.family() == Family::V4);
  CHECK(v4.toString() == "10.1.0.1-10.1.0.9");

  const IpRange crossOctet = range("10.0.0.250-10.0.1.5");
  checkEdges(crossOctet, "10.0.0.250", "10.0.1.5", "10.0.0.249", "10.0.1.6");
  CHECK(crossOctet.contains(ip("10.0.0.255")));

  const IpRange v6 = range("::1-::9");
  checkEdges(v6, "::1", "::9", "::", "::a");
  CHECK(v6.family() == Family::V6);

  const IpRange one = range("1.2.3.4-1.2.3.4");
  checkEdges(one, "1.2.3.4", "1.2.3.4", "1.2.3.3", "1.2.3.5");
  CHECK(one.toString() == "1.2.3.4/32");
}

TEST_CASE("a-b range that happens to be a CIDR block prints as CIDR") {
  CHECK(range("10.0.0.0-10.0.0.255").toString() == "10.0.0.0/24");
  CHECK(range("10.0.0.0-10.0.1.255").toString() == "10.0.0.0/23");
  CHECK(range("10.0.0.1-10.0.1.0").toString() == "10.0.0.1-10.0.1.0");
  CHECK(range("10.0.0.0-10.0.0.2").toString() == "10.0.0.0-10.0.0.2");
  CHECK(range("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").toString() == "::/0");
  CHECK(range("0.0.0.0-255.255.255.255").toString() == "0.0.0.0/0");
}

TEST_CASE("single addresses") {
  const IpRange v4 = range("10.1.0.1");
  checkEdges(v4, "10.1.0.1", "10.1.0.1", "10.1.0.0", "10.1.0.2");
  CHECK(v4.toString() == "10.1.0.1/32");
  const IpRange v6 = range("::1");
  checkEdges(v6, "::1", "::1", "::", "::2");
  CHECK(v6.toString() == "::1/128");
  CHECK(IpRange::single(ip("1.2.3.4")) == range("1.2.3.4/32"));
}

TEST_CASE("toString round-trips through parse") {
  for (const char* text : {"10.0.0.0/8", "fc00::/7", "10.1.0.1-10.1.0.9", "::1/128", "0.0.0.0/0", "::/0",
                           "2001:db8::ff00-2001:db8::1:ff", "255.255.255.255/32"}) {
    INFO(text);
    const IpRange r = range(text);
    CHECK(r.toString() == text);
    CHECK(range(r.toString()) == r);
  }
}

TEST_CASE("cidr() masks host bits and clamps the prefix") {
  CHECK(IpRange::cidr(ip("10.1.2.3"), 8) == range("10.0.0.0/8"));
  CHECK(IpRange::cidr(ip("10.1.2.3"), 32) == range("10.1.2.3/32"));
  CHECK(IpRange::cidr(ip("10.1.2.3"), 0) == range("0.0.0.0/0"));
  CHECK(IpRange::cidr(ip("10.1.2.3"), 99) == range("10.1.2.3/32"));
  CHECK(IpRange::cidr(ip("10.1.2.3"), -1) == range("0.0.0.0/0"));
  CHECK(IpRange::cidr(ip("2001:db8::1"), 32) == range("2001:db8::/32"));
  CHECK(IpRange::cidr(ip("2001:db8::1"), 128) == range("2001:db8::1/128"));
  CHECK(IpRange::cidr(ip("2001:db8::1"), 0) == range("::/0"));
  CHECK(IpRange::cidr(ip("2001:db8::1"), 127) == range("2001:db8::/127"));
}

TEST_CASE("host bits set is an error that says so") {
  const std::string e = parseError("10.1.0.0/8");
  CHECK(e.find("host bits") != std::string::npos);
  CHECK(e.find("10.0.0.0/8") != std::string::npos);  // the suggestion
  CHECK(parseError("fc00::1/7").find("host bits") != std::string::npos);
  CHECK(parseError("0.0.0.1/0").find("host bits") != std::string::npos);
}

TEST_CASE("bad prefix lengths") {
  CHECK(parseError("10.0.0.0/33") == "bad prefix length 33");
  CHECK(parseError("::/129") == "bad prefix length 129");
  CHECK(parseError("10.0.0.0/999").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/1000").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/-1").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/+8").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/ 8").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/8 ").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/8/8").find("bad prefix length") == 0);
  CHECK(parseError("10.0.0.0/0x8").find("bad prefix length") == 0);
}

TEST_CASE("bad ranges") {
  CHECK(parseError("10.1.0.9-10.1.0.1") == "range end before start");
  CHECK(parseError("::9-::1") == "range end before start");
  CHECK(parseError("10.0.0.1-::1") == "range mixes IPv4 and IPv6");
  CHECK(parseError("::1-10.0.0.1") == "range mixes IPv4 and IPv6");
  CHECK(parseError("10.0.0.1-").find("bad address") == 0);
  CHECK(parseError("-10.0.0.1").find("bad address") == 0);
  CHECK(parseError("10.0.0.1-10.0.0.2-10.0.0.3").find("bad address") == 0);
  CHECK(parseError("10.0.0.1 - 10.0.0.2").find("bad address") == 0);
}

TEST_CASE("bad addresses") {
  CHECK(parseError("") == "empty address range");
  CHECK(parseError("10.0.0").find("bad address") == 0);
  CHECK(parseError("256.0.0.0").find("bad address") == 0);
  CHECK(parseError("example.com").find("bad address") == 0);
  CHECK(parseError("[::1]").find("bad address") == 0);
  CHECK(parseError(" 10.0.0.1").find("bad address") == 0);
  CHECK(parseError("/8").find("bad address") == 0);
  // Untrusted text in errors is made printable.
  CHECK(parseError("a\nb").find('\n') == std::string::npos);
}
