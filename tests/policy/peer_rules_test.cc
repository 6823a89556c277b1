#include "policy/peer_rules.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using tw::IpAddress;
using tw::SocketAddress;
using tw::policy::IpRange;
using tw::policy::NamedRange;
using tw::policy::PeerDecision;
using tw::policy::PeerRules;
using tw::policy::withExternalSelf;

namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  INFO(text);
  REQUIRE(a.has_value());
  return *a;
}

NamedRange named(std::string_view range, std::string name,
                 std::optional<std::pair<uint16_t, uint16_t>> ports = std::nullopt) {
  auto r = IpRange::parse(range);
  INFO(range);
  REQUIRE(r.ok());
  return NamedRange{r.value(), std::move(name), ports};
}

SocketAddress sock(std::string_view text) {
  auto s = SocketAddress::parse(text);
  INFO(text);
  REQUIRE(s.has_value());
  return *s;
}

/// The rule name of a decision, or "allowed:<rule>" when allowed, so that
/// one string comparison checks both the verdict and the reason.
std::string verdict(const PeerRules& rules, std::string_view address, uint16_t port = 40000) {
  const PeerDecision d = rules.check(SocketAddress{ip(address), port});
  return d.allowed ? "allowed:" + std::string(d.rule) : std::string(d.rule);
}

PeerRules defaults() { return PeerRules({}, {}, true, {}); }

struct EdgeCase {
  const char* address;
  const char* expected;  // rule name, or "allowed:allowed"
};

}  // namespace

TEST_CASE("built-in deny list holds exactly the documented ranges, most specific first") {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"0.0.0.0/8", "builtin:this-network-v4"},
      {"10.0.0.0/8", "builtin:private-10"},
      {"100.64.0.0/10", "builtin:cgnat"},
      {"127.0.0.0/8", "builtin:loopback-v4"},
      {"169.254.0.0/16", "builtin:link-local-v4"},
      {"172.16.0.0/12", "builtin:private-172"},
      {"192.0.0.0/24", "builtin:ietf-protocol-v4"},
      {"192.0.2.0/24", "builtin:test-net-1"},
      {"192.88.99.0/24", "builtin:6to4-relay-anycast"},
      {"192.168.0.0/16", "builtin:private-192"},
      {"198.18.0.0/15", "builtin:benchmarking-v4"},
      {"198.51.100.0/24", "builtin:test-net-2"},
      {"203.0.113.0/24", "builtin:test-net-3"},
      {"224.0.0.0/4", "builtin:multicast-v4"},
      {"240.0.0.0/4", "builtin:reserved-v4"},
      {"::/128", "builtin:unspecified-v6"},
      {"::1/128", "builtin:loopback-v6"},
      {"::ffff:0.0.0.0/96", "builtin:ipv4-mapped"},
      {"::/96", "builtin:ipv4-compatible"},
      {"::ffff:0:0:0/96", "builtin:siit"},
      {"64:ff9b::/96", "builtin:nat64"},
      {"64:ff9b:1::/48", "builtin:nat64-local"},
      {"100::/64", "builtin:discard-v6"},
      {"2001::/32", "builtin:teredo"},
      {"2001:2::/48", "builtin:benchmarking-v6"},
      {"2001:db8::/32", "builtin:documentation-v6"},
      {"2002::/16", "builtin:6to4"},
      {"fc00::/7", "builtin:unique-local-v6"},
      {"fe80::/10", "builtin:link-local-v6"},
      {"fec0::/10", "builtin:site-local-v6"},
      {"ff00::/8", "builtin:multicast-v6"},
  };
  const auto& list = PeerRules::builtinDenyList();
  REQUIRE(list.size() == expected.size());
  for (size_t i = 0; i < list.size(); ++i) {
    INFO(i);
    CHECK(list[i].range.toString() == expected[i].first);
    CHECK(list[i].name == expected[i].second);
    CHECK_FALSE(list[i].ports.has_value());
  }
}

TEST_CASE("first, last and one past each end of every built-in range (defaultDeny)") {
  const PeerRules rules = defaults();
  // Edges that hit 0.0.0.0/8 through an embedded IPv4, or ::, are denied as
  // "unspecified" before the range list is consulted.
  const EdgeCase cases[] = {
      // 0.0.0.0/8
      {"0.0.0.0", "unspecified"},
      {"0.255.255.255", "unspecified"},
      {"1.0.0.0", "allowed:allowed"},
      // 10.0.0.0/8
      {"9.255.255.255", "allowed:allowed"},
      {"10.0.0.0", "builtin:private-10"},
      {"10.255.255.255", "builtin:private-10"},
      {"11.0.0.0", "allowed:allowed"},
      // 100.64.0.0/10
      {"100.63.255.255", "allowed:allowed"},
      {"100.64.0.0", "builtin:cgnat"},
      {"100.127.255.255", "builtin:cgnat"},
      {"100.128.0.0", "allowed:allowed"},
      // 127.0.0.0/8
      {"126.255.255.255", "allowed:allowed"},
      {"127.0.0.0", "builtin:loopback-v4"},
      {"127.255.255.255", "builtin:loopback-v4"},
      {"128.0.0.0", "allowed:allowed"},
      // 169.254.0.0/16
      {"169.253.255.255", "allowed:allowed"},
      {"169.254.0.0", "builtin:link-local-v4"},
      {"169.254.255.255", "builtin:link-local-v4"},
      {"169.255.0.0", "allowed:allowed"},
      // 172.16.0.0/12
      {"172.15.255.255", "allowed:allowed"},
      {"172.16.0.0", "builtin:private-172"},
      {"172.31.255.255", "builtin:private-172"},
      {"172.32.0.0", "allowed:allowed"},
      // 192.0.0.0/24
      {"191.255.255.255", "allowed:allowed"},
      {"192.0.0.0", "builtin:ietf-protocol-v4"},
      {"192.0.0.255", "builtin:ietf-protocol-v4"},
      {"192.0.1.0", "allowed:allowed"},
      // 192.0.2.0/24
      {"192.0.1.255", "allowed:allowed"},
      {"192.0.2.0", "builtin:test-net-1"},
      {"192.0.2.255", "builtin:test-net-1"},
      {"192.0.3.0", "allowed:allowed"},
      // 192.88.99.0/24
      {"192.88.98.255", "allowed:allowed"},
      {"192.88.99.0", "builtin:6to4-relay-anycast"},
      {"192.88.99.255", "builtin:6to4-relay-anycast"},
      {"192.88.100.0", "allowed:allowed"},
      // 192.168.0.0/16
      {"192.167.255.255", "allowed:allowed"},
      {"192.168.0.0", "builtin:private-192"},
      {"192.168.255.255", "builtin:private-192"},
      {"192.169.0.0", "allowed:allowed"},
      // 198.18.0.0/15
      {"198.17.255.255", "allowed:allowed"},
      {"198.18.0.0", "builtin:benchmarking-v4"},
      {"198.19.255.255", "builtin:benchmarking-v4"},
      {"198.20.0.0", "allowed:allowed"},
      // 198.51.100.0/24
      {"198.51.99.255", "allowed:allowed"},
      {"198.51.100.0", "builtin:test-net-2"},
      {"198.51.100.255", "builtin:test-net-2"},
      {"198.51.101.0", "allowed:allowed"},
      // 203.0.113.0/24
      {"203.0.112.255", "allowed:allowed"},
      {"203.0.113.0", "builtin:test-net-3"},
      {"203.0.113.255", "builtin:test-net-3"},
      {"203.0.114.0", "allowed:allowed"},
      // 224.0.0.0/4 (one past the end is 240/4)
      {"223.255.255.255", "allowed:allowed"},
      {"224.0.0.0", "builtin:multicast-v4"},
      {"239.255.255.255", "builtin:multicast-v4"},
      {"240.0.0.0", "builtin:reserved-v4"},
      // 240.0.0.0/4
      {"255.255.255.255", "builtin:reserved-v4"},
      // ::/128 and ::1/128
      {"::", "unspecified"},
      {"::1", "builtin:loopback-v6"},
      {"::2", "unspecified"},  // ::/96 embeds 0.0.0.2
      // ::ffff:0:0/96
      {"::fffe:ffff:ffff", "allowed:allowed"},
      {"::ffff:0.0.0.0", "unspecified"},
      {"::ffff:255.255.255.255", "builtin:ipv4-mapped"},
      {"::1:0:0:0", "allowed:allowed"},
      // ::/96 (first is ::, covered above)
      {"::ffff:ffff", "builtin:ipv4-compatible"},
      {"::1:0:0", "allowed:allowed"},
      // ::ffff:0:0:0/96 (SIIT)
      {"::fffe:ffff:ffff:ffff", "allowed:allowed"},
      {"::ffff:0:0:0", "unspecified"},
      {"::ffff:0:ffff:ffff", "builtin:siit"},
      {"::ffff:1:0:0", "allowed:allowed"},
      // 64:ff9b::/96
      {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"64:ff9b::", "unspecified"},
      {"64:ff9b::ffff:ffff", "builtin:nat64"},
      {"64:ff9b::1:0:0", "allowed:allowed"},
      // 64:ff9b:1::/48
      {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"64:ff9b:1::", "unspecified"},
      {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "builtin:nat64-local"},
      {"64:ff9b:2::", "allowed:allowed"},
      // 100::/64
      {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"100::", "builtin:discard-v6"},
      {"100::ffff:ffff:ffff:ffff", "builtin:discard-v6"},
      {"100:0:0:1::", "allowed:allowed"},
      // 2001::/32 (Teredo: first embeds server 0.0.0.0, last embeds client 0.0.0.0)
      {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"2001::", "unspecified"},
      {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "unspecified"},
      {"2001:1::", "allowed:allowed"},
      // 2001:2::/48
      {"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"2001:2::", "builtin:benchmarking-v6"},
      {"2001:2:0:ffff:ffff:ffff:ffff:ffff", "builtin:benchmarking-v6"},
      {"2001:2:1::", "allowed:allowed"},
      // 2001:db8::/32
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"2001:db8::", "builtin:documentation-v6"},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:documentation-v6"},
      {"2001:db9::", "allowed:allowed"},
      // 2002::/16
      {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"2002::", "unspecified"},
      {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:6to4"},
      {"2003::", "allowed:allowed"},
      // fc00::/7
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"fc00::", "builtin:unique-local-v6"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:unique-local-v6"},
      {"fe00::", "allowed:allowed"},
      // fe80::/10 (one past is fec0::/10)
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "allowed:allowed"},
      {"fe80::", "builtin:link-local-v6"},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:link-local-v6"},
      // fec0::/10 (one past is ff00::/8)
      {"fec0::", "builtin:site-local-v6"},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:site-local-v6"},
      // ff00::/8
      {"ff00::", "builtin:multicast-v6"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "builtin:multicast-v6"},
  };
  for (const EdgeCase& c : cases) {
    INFO(c.address);
    CHECK(verdict(rules, c.address) == c.expected);
  }
}

TEST_CASE("every built-in range contains its own ends and not one past them") {
  for (const NamedRange& r : PeerRules::builtinDenyList()) {
    INFO(r.name);
    CHECK(r.range.contains(r.range.first()));
    CHECK(r.range.contains(r.range.last()));
    CHECK_FALSE(defaults().check(SocketAddress{r.range.first(), 1}).allowed);
    CHECK_FALSE(defaults().check(SocketAddress{r.range.last(), 1}).allowed);
  }
}

TEST_CASE("cloud metadata addresses are denied by default") {
  const PeerRules rules = defaults();
  CHECK(verdict(rules, "169.254.169.254", 80) == "builtin:link-local-v4");
  CHECK(verdict(rules, "100.100.100.200", 80) == "builtin:cgnat");
  CHECK(verdict(rules, "fd00:ec2::254", 80) == "builtin:unique-local-v6");
}

TEST_CASE("IPv4 in IPv6 clothing is denied by default") {
  const PeerRules rules = defaults();
  CHECK(verdict(rules, "::ffff:127.0.0.1") == "builtin:ipv4-mapped");
  CHECK(verdict(rules, "::127.0.0.1") == "builtin:ipv4-compatible");
  CHECK(verdict(rules, "64:ff9b::7f00:1") == "builtin:nat64");
  CHECK(verdict(rules, "2002:7f00:1::") == "builtin:6to4");
  // Teredo: server 8.8.8.8, client 127.0.0.1 XOR ffffffff = 80ff:fffe.
  CHECK(verdict(rules, "2001:0:808:808::80ff:fffe") == "builtin:teredo");
  CHECK(verdict(rules, "::ffff:0:7f00:1") == "builtin:siit");
  CHECK(verdict(rules, "64:ff9b:1:808:808:808:808:808") == "builtin:nat64-local");
}

TEST_CASE("the embedded IPv4 is checked even when the transition range is allowed") {
  const PeerRules rules(
      {named("::ffff:0:0/96", "config:allowed[0]"), named("::/96", "config:allowed[1]"),
       named("::ffff:0:0:0/96", "config:allowed[2]"), named("64:ff9b::/96", "config:allowed[3]"),
       named("64:ff9b:1::/48", "config:allowed[4]"), named("2002::/16", "config:allowed[5]"),
       named("2001::/32", "config:allowed[6]")},
      {}, true, {});
  CHECK(verdict(rules, "::ffff:127.0.0.1") == "builtin:loopback-v4");
  CHECK(verdict(rules, "::127.0.0.1") == "builtin:loopback-v4");
  CHECK(verdict(rules, "::ffff:0:7f00:1") == "builtin:loopback-v4");
  CHECK(verdict(rules, "64:ff9b::7f00:1") == "builtin:loopback-v4");
  // Local-use NAT64: every RFC 6052 reading is checked (see embedded_ipv4.h).
  CHECK(verdict(rules, "64:ff9b:1:808:808:808:7f00:1") == "builtin:loopback-v4");  // /96
  CHECK(verdict(rules, "64:ff9b:1:808:808:808:808:808") == "allowed:config:allowed[4]");
  CHECK(verdict(rules, "64:ff9b:1:7f00:800:102:304:506") == "unspecified");  // /56 and /64
  CHECK(verdict(rules, "2002:7f00:1::") == "builtin:loopback-v4");
  CHECK(verdict(rules, "2002:a9fe:a9fe::1") == "builtin:link-local-v4");
  CHECK(verdict(rules, "2001:0:808:808::80ff:fffe") == "builtin:loopback-v4");  // client
  CHECK(verdict(rules, "2001:0:a00:1::f7f7:f7f7") == "builtin:private-10");     // server
  // Public IPv4s inside allowed transition ranges go through.
  CHECK(verdict(rules, "::ffff:8.8.8.8") == "allowed:config:allowed[0]");
  CHECK(verdict(rules, "64:ff9b::808:808") == "allowed:config:allowed[3]");
  CHECK(verdict(rules, "2002:808:808::1") == "allowed:config:allowed[5]");
  CHECK(verdict(rules, "2001:0:808:808::f7f7:f7f7") == "allowed:config:allowed[6]");
  // 0.0.0.0/8 inside any of them stays "unspecified".
  CHECK(verdict(rules, "::ffff:0.1.2.3") == "unspecified");
  CHECK(verdict(rules, "2002:1:203::") == "unspecified");
}

TEST_CASE("embedded IPv4 is checked against configured denies without defaultDeny") {
  const PeerRules rules({}, {named("127.0.0.0/8", "config:denied[0] 127.0.0.0/8")}, false, {});
  CHECK(verdict(rules, "127.0.0.1") == "config:denied[0] 127.0.0.0/8");
  CHECK(verdict(rules, "::ffff:127.0.0.1") == "config:denied[0] 127.0.0.0/8");
  CHECK(verdict(rules, "2002:7f00:1::") == "config:denied[0] 127.0.0.0/8");
  CHECK(verdict(rules, "2001:0:808:808::80ff:fffe") == "config:denied[0] 127.0.0.0/8");
  CHECK(verdict(rules, "::ffff:8.8.8.8") == "allowed:allowed");
}

TEST_CASE("public addresses are allowed (only checked, never contacted)") {
  const PeerRules rules = defaults();
  CHECK(verdict(rules, "8.8.8.8", 53) == "allowed:allowed");
  CHECK(verdict(rules, "2606:4700::1", 443) == "allowed:allowed");
}

TEST_CASE("allowing 127.0.0.1/32 opens exactly that address") {
  const SocketAddress self = sock("127.0.0.1:3478");
  const PeerRules rules({named("127.0.0.1/32", "config:allowed[0] 127.0.0.1/32")}, {}, true, {self});
  CHECK(verdict(rules, "127.0.0.1", 3480) == "allowed:config:allowed[0] 127.0.0.1/32");
  CHECK(verdict(rules, "127.0.0.2", 3480) == "builtin:loopback-v4");
  CHECK(verdict(rules, "127.0.0.0", 3480) == "builtin:loopback-v4");
  CHECK(verdict(rules, "::ffff:127.0.0.1", 3480) == "builtin:ipv4-mapped");
  CHECK(verdict(rules, "0.0.0.0", 3480) == "unspecified");
  CHECK(verdict(rules, "127.0.0.1", 3478) == "self:127.0.0.1:3478");
}

TEST_CASE("allowing everything never opens unspecified addresses or self") {
  const PeerRules rules({named("0.0.0.0/0", "config:allowed[0]"), named("::/0", "config:allowed[1]")}, {},
                        true, {sock("127.0.0.1:3478"), sock("[::1]:9100")});
  CHECK(verdict(rules, "0.0.0.0") == "unspecified");
  CHECK(verdict(rules, "0.255.255.255") == "unspecified");
  CHECK(verdict(rules, "::") == "unspecified");
  CHECK(verdict(rules, "::ffff:0.0.0.0") == "unspecified");
  CHECK(verdict(rules, "64:ff9b::1") == "unspecified");
  CHECK(verdict(rules, "127.0.0.1", 3478) == "self:127.0.0.1:3478");
  CHECK(verdict(rules, "::1", 9100) == "self:[::1]:9100");
  CHECK(verdict(rules, "127.0.0.1", 3479) == "allowed:config:allowed[0]");
  CHECK(verdict(rules, "::1", 9101) == "allowed:config:allowed[1]");
}

TEST_CASE("defaultDeny=false allows private ranges but never unspecified") {
  const PeerRules rules({}, {}, false, {});
  CHECK(verdict(rules, "10.0.0.1") == "allowed:allowed");
  CHECK(verdict(rules, "127.0.0.1") == "allowed:allowed");
  CHECK(verdict(rules, "::1") == "allowed:allowed");
  CHECK(verdict(rules, "0.0.0.0") == "unspecified");
  CHECK(verdict(rules, "0.0.0.1") == "unspecified");
  CHECK(verdict(rules, "::") == "unspecified");
  CHECK(verdict(rules, "::ffff:0.0.0.0") == "unspecified");
}

TEST_CASE("configured denies apply with or without defaultDeny, allowed wins over them") {
  const PeerRules rules({named("10.1.0.0/16", "config:allowed[0] 10.1.0.0/16")},
                        {named("10.0.0.0/8", "config:denied[0] 10.0.0.0/8"),
                         named("8.8.4.0/24", "config:denied[1] 8.8.4.0/24")},
                        false, {});
  CHECK(verdict(rules, "10.2.0.1") == "config:denied[0] 10.0.0.0/8");
  CHECK(verdict(rules, "10.1.255.255") == "allowed:config:allowed[0] 10.1.0.0/16");
  CHECK(verdict(rules, "10.2.0.0") == "config:denied[0] 10.0.0.0/8");
  CHECK(verdict(rules, "8.8.4.4") == "config:denied[1] 8.8.4.0/24");
  CHECK(verdict(rules, "8.8.8.8") == "allowed:allowed");
  // A configured deny is reported before the built-in list.
  const PeerRules both({}, {named("10.0.0.0/8", "config:denied[0] 10.0.0.0/8")}, true, {});
  CHECK(verdict(both, "10.0.0.1") == "config:denied[0] 10.0.0.0/8");
}

TEST_CASE("port-limited allowed ranges") {
  const PeerRules rules(
      {named("127.0.0.1/32", "config:allowed[0]", std::pair<uint16_t, uint16_t>{3480, 3490})}, {}, true, {});
  CHECK(verdict(rules, "127.0.0.1", 3479) == "builtin:loopback-v4");
  CHECK(verdict(rules, "127.0.0.1", 3480) == "allowed:config:allowed[0]");
  CHECK(verdict(rules, "127.0.0.1", 3485) == "allowed:config:allowed[0]");
  CHECK(verdict(rules, "127.0.0.1", 3490) == "allowed:config:allowed[0]");
  CHECK(verdict(rules, "127.0.0.1", 3491) == "builtin:loopback-v4");
  CHECK(verdict(rules, "127.0.0.1", 0) == "builtin:loopback-v4");
  CHECK(verdict(rules, "127.0.0.1", 65535) == "builtin:loopback-v4");
}

TEST_CASE("port-limited denied ranges") {
  const PeerRules rules(
      {}, {named("0.0.0.0/0", "config:denied[0] smtp", std::pair<uint16_t, uint16_t>{25, 25})}, false, {});
  CHECK(verdict(rules, "8.8.8.8", 25) == "config:denied[0] smtp");
  CHECK(verdict(rules, "8.8.8.8", 24) == "allowed:allowed");
  CHECK(verdict(rules, "8.8.8.8", 26) == "allowed:allowed");
  CHECK(verdict(rules, "2606:4700::1", 25) == "allowed:allowed");  // IPv4 range only
  CHECK(verdict(rules, "::ffff:8.8.8.8", 25) == "config:denied[0] smtp");
}

TEST_CASE("self addresses: exact, wildcard and embedded forms") {
  const PeerRules rules(
      {named("0.0.0.0/0", "all-v4"), named("::/0", "all-v6")}, {}, true,
      {sock("0.0.0.0:3478"), sock("[::]:9100"), sock("[::ffff:127.0.0.1]:5349"), sock("[2606:4700::1]:443")});
  // 0.0.0.0:3478 matches port 3478 on every IPv4 address, including
  // IPv4s embedded in IPv6 peers, but not native IPv6.
  CHECK(verdict(rules, "8.8.8.8", 3478) == "self:0.0.0.0:3478");
  CHECK(verdict(rules, "127.0.0.1", 3478) == "self:0.0.0.0:3478");
  CHECK(verdict(rules, "::ffff:8.8.8.8", 3478) == "self:0.0.0.0:3478");
  CHECK(verdict(rules, "2606:4700::2", 3478) == "allowed:all-v6");
  // [::]:9100 is dual-stack: both families.
  CHECK(verdict(rules, "2606:4700::2", 9100) == "self:[::]:9100");
  CHECK(verdict(rules, "8.8.8.8", 9100) == "self:[::]:9100");
  // A self address given in mapped form also matches the plain IPv4.
  CHECK(verdict(rules, "127.0.0.1", 5349) == "self:[::ffff:127.0.0.1]:5349");
  CHECK(verdict(rules, "::ffff:127.0.0.1", 5349) == "self:[::ffff:127.0.0.1]:5349");
  CHECK(verdict(rules, "127.0.0.2", 5349) == "allowed:all-v4");
  // Exact public self address.
  CHECK(verdict(rules, "2606:4700::1", 443) == "self:[2606:4700::1]:443");
  CHECK(verdict(rules, "2606:4700::1", 444) == "allowed:all-v6");
}

TEST_CASE("an explicit IPv4 self address matches its embedded IPv6 forms") {
  const PeerRules rules({named("::/0", "all-v6"), named("0.0.0.0/0", "all-v4")}, {}, false,
                        {sock("127.0.0.1:9100")});
  CHECK(verdict(rules, "::ffff:127.0.0.1", 9100) == "self:127.0.0.1:9100");
  CHECK(verdict(rules, "64:ff9b::7f00:1", 9100) == "self:127.0.0.1:9100");
  CHECK(verdict(rules, "2002:7f00:1::", 9100) == "self:127.0.0.1:9100");
  CHECK(verdict(rules, "127.0.0.1", 9101) == "allowed:all-v4");
}

TEST_CASE("accessors expose the configuration") {
  const PeerRules rules({named("1.2.3.4", "a")}, {named("5.6.7.8", "d")}, false, {});
  REQUIRE(rules.allowed().size() == 1);
  CHECK(rules.allowed()[0].name == "a");
  REQUIRE(rules.denied().size() == 1);
  CHECK(rules.denied()[0].name == "d");
  CHECK_FALSE(rules.defaultDeny());
}

TEST_CASE("behind 1:1 NAT the own service ports on the external address are self") {
  // Issue 21: the host holds 10.10.0.10, the provider maps 203.0.113.10 to it.
  const std::vector<SocketAddress> self = withExternalSelf(
      {sock("10.10.0.10:3478"), sock("10.10.0.10:443"), sock("127.0.0.1:9100"), sock("0.0.0.0:8443")},
      {IpAddress::parse("203.0.113.10").value()});
  CHECK(self.size() == 8);
  // Allowing the lab's ranges (or everything) never opens them.
  const PeerRules rules({named("0.0.0.0/0", "config:allowed[0]")}, {}, true, self);
  CHECK(verdict(rules, "203.0.113.10", 3478) == "self:203.0.113.10:3478");
  CHECK(verdict(rules, "203.0.113.10", 443) == "self:203.0.113.10:443");
  CHECK(verdict(rules, "203.0.113.10", 9100) == "self:203.0.113.10:9100");
  CHECK(verdict(rules, "::ffff:203.0.113.10", 3478) == "self:203.0.113.10:3478");
  CHECK(verdict(rules, "10.10.0.10", 3478) == "self:10.10.0.10:3478");
  // Other ports of the public address (relayed ones) are not self.
  CHECK(verdict(rules, "203.0.113.10", 50000) == "allowed:config:allowed[0]");
}

TEST_CASE("withExternalSelf repeats nothing and is a no-op without external addresses") {
  const std::vector<SocketAddress> in{sock("203.0.113.10:3478"), sock("10.10.0.10:3478")};
  CHECK(withExternalSelf(in, {}) == in);
  CHECK(withExternalSelf(in, {IpAddress::parse("203.0.113.10").value()}) == in);
}
