// Multi-tenant realms (policy/realms.h): listener realms, peers.realms
// parsing and validation, and the order in which realm rules apply.
#include "policy/realms.h"

#include <catch2/catch.hpp>
#include <string>

#include "policy/config.h"
#include "policy/snapshot.h"
#include "tests/policy/config_text.h"

using namespace tw;
using namespace tw::policy;

namespace {

constexpr const char* kFile = "conf/realms.yaml";

/// Two UDP listeners on 127.0.0.1:3478 (realm a.example, its own keyring)
/// and :3479 (the top-level realm b.example), then `extra`.
std::string twoRealms(const std::string& extra) {
  return "realm: b.example\n"
         "listeners:\n"
         "  - {transport: udp, address: 127.0.0.1, port: 3478, realm: a.example}\n"
         "  - {transport: udp, address: 127.0.0.1, port: 3479}\n"
         "auth: {secrets: [{id: k1, value: \"0123456789abcdef0123456789abcdef\"}],\n"
         "  realms: {a.example: {secrets: [{id: a1, value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}}}\n" +
         extra;
}

Config parsed(const std::string& yaml) { return testing::parsedConfig(yaml, kFile); }
std::string errorsOf(const std::string& yaml) { return testing::configErrors(yaml, kFile); }

SocketAddress sock(const char* text) { return *SocketAddress::parse(text); }

FiveTuple tupleTo(const char* server, Transport t = Transport::Udp) {
  return FiveTuple{sock("127.0.0.9:5000"), sock(server), t};
}

/// "allowed:<rule>" or the denying rule, as in peer_rules_test.cc.
std::string verdict(const PolicySnapshot& s, std::string_view realm, const char* peer) {
  const PeerDecision d = s.checkPeer(realm, sock(peer));
  return d.allowed ? "allowed:" + std::string(d.rule) : std::string(d.rule);
}

}  // namespace

TEST_CASE("each listener serves its realm, unmatched tuples get the top-level realm", "[realms]") {
  const Config c = parsed(twoRealms(""));
  REQUIRE(c.listeners.size() == 2);
  CHECK(c.listeners[0].realm == "a.example");
  CHECK(c.listeners[1].realm.empty());
  CHECK(effectiveRealm(c, c.listeners[1]) == "b.example");
  const RealmMap m = buildRealmMap(c);
  CHECK(m.realmFor(tupleTo("127.0.0.1:3478")) == "a.example");
  CHECK(m.realmFor(tupleTo("127.0.0.1:3479")) == "b.example");
  // Same address and port over another transport is another listener.
  CHECK(m.realmFor(tupleTo("127.0.0.1:3478", Transport::Tcp)) == "b.example");
  CHECK(m.realmFor(tupleTo("127.0.0.2:3478")) == "b.example");
  CHECK(m.defaultRealm() == "b.example");
}

TEST_CASE("peers.realms is read with the syntax of peers.allowed/denied", "[realms]") {
  const Config c =
      parsed(twoRealms("peers:\n"
                       "  realms:\n"
                       "    a.example:\n"
                       "      allowed: [127.0.0.1/32, {range: 10.1.0.0/16, ports: 10000-20000}]\n"
                       "      denied: [198.18.0.0/15]\n"
                       "    b.example: {denied: [{range: 192.0.2.0/24, ports: 53}]}\n"));
  REQUIRE(c.peers.realms.size() == 2);
  const RealmPeersConfig& a = c.peers.realms[0];
  CHECK(a.realm == "a.example");
  REQUIRE(a.allowed.size() == 2);
  CHECK(a.allowed[1].text == "10.1.0.0/16");
  CHECK(a.allowed[1].ports == std::pair<uint16_t, uint16_t>{10000, 20000});
  REQUIRE(a.denied.size() == 1);
  CHECK(c.peers.realms[1].denied[0].ports == std::pair<uint16_t, uint16_t>{53, 53});
}

TEST_CASE("peers.realms errors carry FILE:LINE:COL", "[realms]") {
  // A realm key no listener (nor the top-level realm) serves: blamed on the key.
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms:\n    c.example: {allowed: [127.0.0.1]}\n")),
             Catch::Contains("conf/realms.yaml:9:5: peers.realms: realm 'c.example' is not the "
                             "realm of any listener nor the top-level realm"));
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms:\n    a.example: {allowd: [127.0.0.1]}\n")),
             Catch::Contains("conf/realms.yaml:9:17: peers.realms.a.example: unknown key 'allowd' "
                             "(did you mean 'allowed'?)"));
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms:\n    a.example: {allowed: [10.0.0.0/33]}\n")),
             Catch::Contains("conf/realms.yaml:9:27: peers.realms.a.example.allowed[0]: bad address range"));
  CHECK_THAT(
      errorsOf(twoRealms("peers:\n  realms:\n    a.example: {denied: [{range: 10.0.0.0/8, ports: 9-1}]}\n")),
      Catch::Contains("conf/realms.yaml:9:"));
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms: [a.example]\n")),
             Catch::Contains("conf/realms.yaml:8:11: peers.realms: expected a map of keys"));
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms:\n    \"a\\\"b\": {}\n")),
             Catch::Contains("conf/realms.yaml:9:5: peers.realms: realm must be 1-127 printable ASCII"));
  CHECK_THAT(errorsOf(twoRealms("peers:\n  realms:\n    a.example: {}\n    a.example: {}\n")),
             Catch::Contains("conf/realms.yaml:10:5: peers.realms.a.example: duplicate realm"));
  // A listener realm is checked like the top-level one.
  CHECK_THAT(errorsOf("realm: b.example\nlisteners:\n  - {address: 127.0.0.1, realm: \"\"}\n"
                      "auth: {secrets_file: s.yaml}\n"),
             Catch::Contains("conf/realms.yaml:3:33: listeners[0].realm: realm must be 1-127"));
}

TEST_CASE("a realm used only as the top-level realm may carry rules", "[realms]") {
  const Config c = parsed(twoRealms("peers:\n  realms:\n    b.example: {allowed: [127.0.0.1]}\n"));
  CHECK(c.peers.realms.size() == 1);
}

TEST_CASE("realm rules: hard denies, then the realm's denied, its allowed, then global", "[realms]") {
  Config c =
      parsed(twoRealms("peers:\n"
                       "  allowed: [198.18.0.1]\n"
                       "  realms:\n"
                       "    a.example:\n"
                       "      allowed: [127.0.0.0/8, 0.0.0.0/8, \"::ffff:127.0.0.1\", {range: 10.1.0.0/16, "
                       "ports: 10000-20000}]\n"
                       "      denied: [198.18.0.1, 127.0.0.5]\n"));
  const auto snap = buildSnapshot(c, 1, {sock("127.0.0.1:3478")});
  // The realm opens what the built-in list closes, for its own allocations only.
  CHECK(verdict(*snap, "a.example", "127.0.0.7:9000") ==
        "allowed:config:realms[a.example].allowed[0] 127.0.0.0/8");
  CHECK(verdict(*snap, "b.example", "127.0.0.7:9000") == "builtin:loopback-v4");
  CHECK(verdict(*snap, "", "127.0.0.7:9000") == "builtin:loopback-v4");
  // Its denied comes before its allowed and before the global allowed.
  CHECK(verdict(*snap, "a.example", "127.0.0.5:9000") == "config:realms[a.example].denied[1] 127.0.0.5");
  CHECK(verdict(*snap, "a.example", "198.18.0.1:9000") == "config:realms[a.example].denied[0] 198.18.0.1");
  CHECK(verdict(*snap, "b.example", "198.18.0.1:9000") == "allowed:config:allowed[0] 198.18.0.1");
  // Never overridable: unspecified and the server's own listeners.
  CHECK(verdict(*snap, "a.example", "0.0.0.1:9000") == "unspecified");
  CHECK(verdict(*snap, "a.example", "127.0.0.1:3478") == "self:127.0.0.1:3478");
  // Ports limit what a realm opens.
  CHECK(verdict(*snap, "a.example", "10.1.2.3:15000") ==
        "allowed:config:realms[a.example].allowed[3] 10.1.0.0/16");
  CHECK(verdict(*snap, "a.example", "10.1.2.3:80") == "builtin:private-10");
  // Every embedded IPv4 must be allowed too: the mapped form needs its own entry.
  CHECK(verdict(*snap, "a.example", "[::ffff:127.0.0.1]:9000") ==
        "allowed:config:realms[a.example].allowed[2] ::ffff:127.0.0.1");
  CHECK(verdict(*snap, "a.example", "[::ffff:127.0.0.2]:9000") == "builtin:ipv4-mapped");
}
