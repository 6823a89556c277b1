#include "policy/embedded_ipv4.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using tw::IpAddress;
using tw::policy::embeddedIpv4;
using tw::policy::embeddedIpv4All;

namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  REQUIRE(a.has_value());
  return *a;
}

std::vector<std::string> all(std::string_view v6) {
  std::vector<std::string> out;
  for (const IpAddress& a : embeddedIpv4All(ip(v6))) {
    CHECK(a.isV4());
    out.push_back(a.toString());
  }
  return out;
}

std::string first(std::string_view v6) {
  auto a = embeddedIpv4(ip(v6));
  return a ? a->toString() : "none";
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("IPv4 addresses embed nothing") {
  CHECK(all("127.0.0.1").empty());
  CHECK(first("0.0.0.0") == "none");
}

TEST_CASE("IPv4-mapped ::ffff:0:0/96") {
  CHECK(all("::ffff:127.0.0.1") == Strings{"127.0.0.1"});
  CHECK(all("::ffff:0.0.0.0") == Strings{"0.0.0.0"});
  CHECK(all("::ffff:255.255.255.255") == Strings{"255.255.255.255"});
  // One past each end of the /96 is a different (non-embedding) address.
  CHECK(all("::fffe:ffff:ffff").empty());
  CHECK(all("::1:0:0:0").empty());
}

TEST_CASE("IPv4-compatible ::/96, except :: and ::1") {
  CHECK(all("::127.0.0.1") == Strings{"127.0.0.1"});
  CHECK(all("::2") == Strings{"0.0.0.2"});
  CHECK(all("::ffff:ffff") == Strings{"255.255.255.255"});
  CHECK(all("::").empty());   // IPv6 unspecified: denied on its own by peer rules
  CHECK(all("::1").empty());  // IPv6 loopback: denied by the builtin ::1/128 entry
  CHECK(all("::1:0:0").empty());
}

TEST_CASE("SIIT ::ffff:0:0:0/96") {
  CHECK(all("::ffff:0:7f00:1") == Strings{"127.0.0.1"});
  CHECK(all("::ffff:0:a9fe:a9fe") == Strings{"169.254.169.254"});
  CHECK(all("::ffff:1:7f00:1").empty());
  CHECK(all("::fffe:ffff:7f00:1").empty());
}

TEST_CASE("NAT64 well-known prefix 64:ff9b::/96") {
  CHECK(all("64:ff9b::7f00:1") == Strings{"127.0.0.1"});
  CHECK(all("64:ff9b::8.8.8.8") == Strings{"8.8.8.8"});
  CHECK(all("64:ff9b::") == Strings{"0.0.0.0"});
  CHECK(all("64:ff9b::ffff:ffff") == Strings{"255.255.255.255"});
  CHECK(all("64:ff9b::1:0:0").empty());
  CHECK(all("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff").empty());
}

TEST_CASE("NAT64 local-use 64:ff9b:1::/48 yields every RFC 6052 layout inside the /48") {
  // Bytes 6..15 = 7f 00 | 08 | 00 01 02 | 03 04 05 06 (byte 8 is the u-octet).
  //   /48: bytes 6,7,9,10   -> 127.0.0.1
  //   /56: bytes 7,9,10,11  -> 0.0.1.2
  //   /64: bytes 9..12      -> 0.1.2.3
  //   /96: bytes 12..15     -> 3.4.5.6
  CHECK(all("64:ff9b:1:7f00:800:102:304:506") == Strings{"127.0.0.1", "0.0.1.2", "0.1.2.3", "3.4.5.6"});
  CHECK(first("64:ff9b:1:7f00:800:102:304:506") == "127.0.0.1");
  // The u-octet is skipped, not read as part of the IPv4: with bytes 6..15
  // = a9 fe | ff | a9 fe a9 | fe a9 fe a9 each reading is 169.254.169.254 or
  // 254.169.254.169, and 0xff never appears in one.
  CHECK(all("64:ff9b:1:a9fe:ffa9:fea9:fea9:fea9") == Strings{"169.254.169.254", "254.169.254.169"});
  // Deployed as a /96 inside the /48: the IPv4 is in the last 32 bits, and
  // the /64 reading (bytes 9..12) picks up its first byte.
  CHECK(all("64:ff9b:1::7f00:1") == Strings{"0.0.0.0", "0.0.0.127", "127.0.0.1"});
  // All readings agreeing give one candidate.
  CHECK(all("64:ff9b:1:808:808:808:808:808") == Strings{"8.8.8.8"});
  CHECK(all("64:ff9b:1::") == Strings{"0.0.0.0"});
  CHECK(all("64:ff9b:1:ffff:ffff:ffff:ffff:ffff") == Strings{"255.255.255.255"});
  CHECK(all("64:ff9b:2::7f00:1").empty());
  CHECK(all("64:ff9b:0:ffff:ffff:ffff:ffff:ffff").empty());
}

TEST_CASE("6to4 2002::/16 carries the IPv4 in bits 16..47") {
  CHECK(all("2002:7f00:1::") == Strings{"127.0.0.1"});
  CHECK(all("2002:c0a8:101:1::1") == Strings{"192.168.1.1"});
  CHECK(all("2002::") == Strings{"0.0.0.0"});
  CHECK(all("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == Strings{"255.255.255.255"});
  CHECK(all("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff").empty());
  CHECK(all("2003::").empty());
}

TEST_CASE("Teredo 2001:0::/32: client XOR 0xffffffff, then server") {
  // RFC 4380 5.2.1-style example: server 65.54.227.120, client 192.0.2.45
  // (obfuscated 3fff:fdd2), port 40000 (obfuscated 63bf).
  CHECK(all("2001:0:4136:e378:8000:63bf:3fff:fdd2") == Strings{"192.0.2.45", "65.54.227.120"});
  // Client 127.0.0.1 obfuscated is 80ff:fffe.
  CHECK(first("2001:0:808:808:0:0:80ff:fffe") == "127.0.0.1");
  CHECK(all("2001:0:808:808:0:0:80ff:fffe") == Strings{"127.0.0.1", "8.8.8.8"});
  // Server in the private range, client public.
  CHECK(all("2001:0:a00:1::f7f7:f7f7")[1] == "10.0.0.1");
  CHECK(all("2001:1::").empty());
  CHECK(all("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff").empty());
  CHECK(all("2001::") == Strings{"255.255.255.255", "0.0.0.0"});
}

TEST_CASE("ordinary IPv6 addresses embed nothing") {
  CHECK(all("2606:4700::1").empty());
  CHECK(all("fd00:ec2::254").empty());
  CHECK(all("fe80::1").empty());
  CHECK(all("ff02::1").empty());
  CHECK(first("2001:db8::1") == "none");
}
