// Fleet mode's pure parts (relay/fleet/fleet_*.h, config fleet:): no Redis here;
// tests/e2e/fleet_e2e_test.cc runs the real thing.
#include <algorithm>
#include <catch2/catch.hpp>

#include "policy/config.h"
#include "policy/reload.h"
#include "policy/secrets_file.h"
#include "relay/fleet/fleet_keys.h"
#include "relay/fleet/fleet_state.h"

using namespace tw;
using namespace tw::policy;
using namespace tw::fleet;
using namespace std::chrono_literals;

namespace {

std::string config(const std::string& fleet) {
  return "realm: example.org\n"
         "auth:\n  secrets: [{id: k1, value: \"0123456789abcdef0123456789abcdef\"}]\n" +
         fleet;
}

std::string errorsOf(const std::string& text) {
  auto r = parseConfig(text, "f.yaml");
  REQUIRE_FALSE(r.ok());
  return formatErrors(r.error());
}

class CountingRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = uint8_t(++n_);
  }

 private:
  uint64_t n_ = 0;
};

const std::string kValue = "0123456789abcdef0123456789abcdef";

}  // namespace

TEST_CASE("fleet: the issue's example parses, without fleet: a node is alone", "[config][fleet]") {
  auto alone = parseConfig(config(""), "f.yaml");
  REQUIRE(alone.ok());
  CHECK_FALSE(alone->fleet.has_value());
  auto r = parseConfig(config("fleet:\n  redis: {address: 127.0.0.1:6379, password_file: null, db: 0}\n"
                              "  node_id: auto\n  heartbeat: 2s\n"),
                       "/etc/tw/f.yaml");
  if (!r) FAIL(formatErrors(r.error()));
  REQUIRE(r->fleet);
  CHECK(r->fleet->redis.host == "127.0.0.1");
  CHECK(r->fleet->redis.port == 6379);
  CHECK(r->fleet->redis.passwordFile.empty());
  CHECK(r->fleet->nodeId.empty());
  CHECK(r->fleet->heartbeat == 2s);
  auto named =
      parseConfig(config("fleet:\n  redis: {address: 'redis.svc.local:6380', password_file: pw, db: 3}\n"
                         "  node_id: relay-1.eu\n  heartbeat: 500ms\n"),
                  "/etc/tw/f.yaml");
  if (!named) FAIL(formatErrors(named.error()));
  CHECK(named->fleet->redis.host == "redis.svc.local");
  CHECK(named->fleet->redis.port == 6380);
  CHECK(named->fleet->redis.passwordFile == "/etc/tw/pw");
  CHECK(named->fleet->redis.db == 3);
  CHECK(named->fleet->nodeId == "relay-1.eu");
  CHECK(named->fleet->heartbeat == 500ms);
}

TEST_CASE("fleet: every mistake is reported with FILE:LINE:COL", "[config][fleet]") {
  const std::string e =
      errorsOf(config("fleet:\n  redis: {address: 'nohost', db: 999}\n"
                      "  node_id: 'a b'\n  heartbeat: 10ms\n  hartbeat: 1s\n"));
  CHECK_THAT(e, Catch::Contains("f.yaml:5:20: fleet.redis.address: expected HOST:PORT for Redis"));
  CHECK_THAT(e, Catch::Contains("f.yaml:5:34: fleet.redis.db: expected an integer 0-255"));
  CHECK_THAT(e, Catch::Contains("f.yaml:6:12: fleet.node_id: a node id may only hold"));
  CHECK_THAT(e, Catch::Contains("f.yaml:7:14: fleet.heartbeat:"));
  CHECK_THAT(e, Catch::Contains("f.yaml:8:3: fleet: unknown key 'hartbeat' (did you mean 'heartbeat'?)"));
  CHECK_THAT(errorsOf(config("fleet:\n  node_id: n1\n")), Catch::Contains("redis"));
  CHECK_THAT(errorsOf(config("fleet:\n  redis: {address: '1.2.3.4:0'}\n")), Catch::Contains("HOST:PORT"));
  CHECK_THAT(errorsOf(config("fleet:\n  redis: {address: 'h:6379'}\n  heartbeat: 2m\n")),
             Catch::Contains("at most 60s"));
}

TEST_CASE("fleet: node ids", "[fleet]") {
  CHECK_FALSE(checkNodeId("relay-1.eu_west"));
  CHECK(checkNodeId(""));
  CHECK(checkNodeId(std::string(65, 'a')));
  CHECK(checkNodeId("a:b"));
  CHECK(autoNodeId("relay 1/eu") == "relay-1-eu");
  CHECK(autoNodeId("") == "node");
  CHECK(autoNodeId(std::string(80, 'x')).size() == 64);
}

TEST_CASE("fleet: key names carry the realm, the ban pattern escapes glob characters", "[fleet]") {
  FleetKeys k("ex*ample[1]");
  CHECK(k.keyring() == "turnwarden:ex*ample[1]:keyring");
  CHECK(k.ban(*SocketAddress::parse("[2001:db8::1]:5000")) ==
        "turnwarden:ex*ample[1]:ban:[2001:db8::1]:5000");
  CHECK(k.banPattern() == "turnwarden:ex\\*ample\\[1\\]:ban:*");
  CHECK(k.ban(*SocketAddress::parse("10.0.0.1:40000")).substr(k.banPrefixSize()) == "10.0.0.1:40000");
  // Lifting an IP matches every port of it, and no longer IP that starts alike.
  CHECK(k.banPattern(*IpAddress::parse("10.0.0.1")) == "turnwarden:ex\\*ample\\[1\\]:ban:10.0.0.1:*");
  CHECK(k.banPattern(*IpAddress::parse("::1")) == "turnwarden:ex\\*ample\\[1\\]:ban:\\[::1\\]:*");
  CHECK(k.node("n1") == "turnwarden:ex*ample[1]:node:n1");
}

TEST_CASE("fleet: messages round-trip and junk is refused", "[fleet]") {
  FleetMessage ban;
  ban.op = FleetOp::Ban;
  ban.origin = "n1";
  ban.source = SocketAddress::parse("192.0.2.7:40001");
  ban.ttlMs = 600000;
  CHECK(formatFleetMessage(ban) == "ban n1 192.0.2.7:40001 600000");
  auto back = parseFleetMessage("ban n1 192.0.2.7:40001 600000");
  REQUIRE(back);
  CHECK(back->op == FleetOp::Ban);
  CHECK(back->source == ban.source);
  auto v6 = parseFleetMessage("ban n1 [2001:db8::7]:9 5");
  REQUIRE(v6);
  CHECK(v6->source->port == 9);
  CHECK(back->ttlMs == 600000);
  auto user = parseFleetMessage("end_user n2 alice smith");
  REQUIRE(user);
  CHECK(user->user == "alice smith");
  CHECK(user->origin == "n2");
  auto ring = parseFleetMessage("keyring n3 12");
  REQUIRE(ring);
  CHECK(ring->version == 12);
  REQUIRE(parseFleetMessage("reload n1"));
  REQUIRE(parseFleetMessage("drain n1"));
  REQUIRE(parseFleetMessage("unban n1 ::1"));
  for (const char* bad :
       {"", "reload", "reload n1 x", "drain n:1", "ban n1 300.0.0.1:1 5", "ban n1 1.2.3.4:5",
        "ban n1 1.2.3.4:5 0", "ban n1 1.2.3.4:5 -5", "ban n1 1.2.3.4:5 99999999999999",
        "ban n1 1.2.3.4 600000", "ban n1 1.2.3.4:70000 5", "ban n1 ::1:5 5", "keyring n1 0", "keyring n1 7x",
        "end_user n1", "unban n1", "nuke n1", "ban n1 1.2.3.4:5 5 6"})
    CHECK_FALSE(parseFleetMessage(bad));
  CHECK_FALSE(parseFleetMessage("end_user n1 " + std::string(513, 'u')));
}

TEST_CASE("fleet: a Redis keyring entry passes the keyring file's validation or is refused", "[fleet]") {
  const std::vector<Secret> secrets{{"k2", kValue, std::nullopt}, {"k1", kValue + "00", 2000}};
  auto text = renderKeyringText(secrets, "redis");
  REQUIRE(text.ok());
  auto ok = parseFleetKeyring({"yaml", *text, "version", "4", "rotated_at", "1500"}, 1000);
  REQUIRE(ok.ok());
  REQUIRE(ok->has_value());
  CHECK((*ok)->version == 4);
  CHECK((*ok)->rotatedAt == 1500);
  CHECK((*ok)->secrets.size() == 2);
  CHECK((*ok)->secrets[1].notAfter == 2000);
  auto absent = parseFleetKeyring({}, 1000);
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());
  CHECK_FALSE(parseFleetKeyring({"yaml", *text}, 1000).ok());
  CHECK_FALSE(parseFleetKeyring({"yaml", *text, "version", "0"}, 1000).ok());
  auto shortValue = parseFleetKeyring({"yaml", "secrets: [{id: k, value: tiny7}]", "version", "1"}, 1000);
  REQUIRE_FALSE(shortValue.ok());
  CHECK_THAT(shortValue.error(), Catch::Contains("redis keyring"));
  CHECK_THAT(shortValue.error(), !Catch::Contains("tiny7"));  // never the value
  CHECK_FALSE(parseFleetKeyring({"yaml", "secrets: []\n", "version", "1"}, 1000).ok());
  CHECK_FALSE(parseFleetKeyring({"yaml", "nope: 1\n", "version", "1"}, 1000).ok());
  const std::vector<Secret> expired{{"k1", kValue, 10}};
  auto old = parseFleetKeyring({"yaml", *renderKeyringText(expired, "r"), "version", "1"}, 1000);
  REQUIRE_FALSE(old.ok());
  CHECK_THAT(old.error(), Catch::Contains("expired"));
}

TEST_CASE("fleet: the lease holder rotates when due, prunes expired secrets, else leaves it", "[fleet]") {
  CountingRandom rng;
  FleetKeyring k{{{"k1", kValue, std::nullopt}}, 3, 1000};
  const RotationConfig rot{3600s, 7200s};
  CHECK_FALSE(planKeyringChange(k, rot, 7200, 1000 + 3599, rng, false));
  auto due = planKeyringChange(k, rot, 7200, 1000 + 3600, rng, false);
  REQUIRE(due);
  CHECK(due->rotated);
  REQUIRE(due->secrets.size() == 2);
  CHECK(due->secrets[1].id == "k1");
  CHECK(due->secrets[1].notAfter == 1000 + 3600 + 7200);
  CHECK_FALSE(planKeyringChange(k, std::nullopt, 86400, 999999, rng, false));
  auto forced = planKeyringChange(k, std::nullopt, 86400, 2000, rng, true);
  REQUIRE(forced);
  CHECK(forced->secrets.size() == 2);
  FleetKeyring graceOver{{{"k2", kValue, std::nullopt}, {"k1", kValue + "1", 1500}}, 4, 1000};
  auto pruned = planKeyringChange(graceOver, std::nullopt, 86400, 1501, rng, false);
  REQUIRE(pruned);
  CHECK_FALSE(pruned->rotated);
  REQUIRE(pruned->secrets.size() == 1);
  CHECK(pruned->secrets[0].id == "k2");
}

TEST_CASE("fleet: node records carry counts, the sum skips self and bad fields", "[fleet]") {
  NodeInfo a{"a", "udp 127.0.0.1:3478", "0.1.0", 3, 1000, 10, 20, true, false, true};
  const IpAddress ip1 = *IpAddress::parse("10.0.0.1"), ip6 = *IpAddress::parse("2001:db8::1");
  QuotaCounts counts{{{perUserKey("alice", ip1), 2}, {perUserKey("bob smith", ip6), 1}}, {{ip1, 3}}};
  auto flat = encodeNodeRecord(a, counts);
  auto rec = parseNodeRecord("a", flat);
  CHECK(rec.badFields == 0);
  CHECK(rec.info.addresses == "udp 127.0.0.1:3478");
  CHECK(rec.info.allocations == 3);
  CHECK(rec.info.leaseHolder);
  CHECK(rec.counts == counts);
  // Fields are "u:IP USER": readable in redis-cli, a user name may hold spaces.
  CHECK(std::find(flat.begin(), flat.end(), "u:2001:db8::1 bob smith") != flat.end());
  flat.insert(flat.end(), {"u:10.0.0.1 carol", "x", "i:notanip", "1", "weird", "1", "u:", "1", "ready", "2",
                           "u:carol", "1", "u:10.0.0.1 ", "1", "u:nope carol", "1"});
  auto b = parseNodeRecord("b", flat);
  CHECK(b.badFields == 8);
  CHECK(b.counts == counts);
  const auto sum = sumOtherNodes(
      {rec, b, parseNodeRecord("c", encodeNodeRecord({}, {{{perUserKey("alice", ip1), 1}}, {}}))}, "b");
  CHECK(sum.users.at(perUserKey("alice", ip1)) == 3);
  CHECK(sum.users.at(perUserKey("bob smith", ip6)) == 1);
  CHECK_FALSE(sum.users.count(perUserKey("alice", ip6)));
  CHECK(sum.ips.at(*IpAddress::parse("10.0.0.1")) == 3);
  const NodeSelf self{"b", false, false, 0};
  CHECK_THAT(nodesJson(self, {rec.info}), Catch::Contains("\"id\":\"a\""));
  CHECK_THAT(nodesJson(self, {rec.info}), Catch::Contains("\"lease\":true"));
  CHECK_THAT(nodesJson(self, {rec.info}),
             Catch::StartsWith("{\"self\":{\"id\":\"b\",\"redis_up\":false,\"fleet_ready\":false,"
                               "\"keyring_version\":0},\"nodes\":["));
}

TEST_CASE("fleet: timing follows the heartbeat, a lease grant is trusted for 2/3 of its TTL", "[fleet]") {
  const auto t = fleetTiming(2s);
  CHECK(t.tick == 500ms);
  CHECK(t.nodeTtl == 3s);
  CHECK(t.leaseTtl == 6s);
  CHECK(fleetTiming(200ms).tick == 50ms);
  RotationLease lease;
  const Instant t0{std::chrono::seconds(100)};
  CHECK_FALSE(lease.held(t0));
  lease.granted(t0, 6s);
  CHECK(lease.held(t0 + 3999ms));
  CHECK_FALSE(lease.held(t0 + 4s));
  lease.granted(t0 + 3s, 6s);
  CHECK(lease.held(t0 + 6s));
  lease.lost();
  CHECK_FALSE(lease.held(t0 + 6s));
}

TEST_CASE("fleet: fleet.* is restart-only, and a reload keeps the keyring from Redis", "[config][fleet]") {
  auto running = parseConfig(config("fleet:\n  redis: {address: 127.0.0.1:6379}\n  node_id: a\n"), "f.yaml");
  REQUIRE(running.ok());
  running->auth.secrets = {Secret{"from-redis", kValue, std::nullopt}};  // adopted from Redis
  auto next = parseConfig(config("fleet:\n  redis: {address: 127.0.0.1:6380}\n  node_id: a\n"
                                 "limits: {permissions_per_request: 7}\n"),
                          "f.yaml");
  REQUIRE(next.ok());
  auto plan = planReload(*running, std::move(next.value()));
  CHECK(plan.restartOnly == std::vector<std::string>{"fleet"});
  REQUIRE(plan.config.fleet);
  CHECK(plan.config.fleet->redis.port == 6379);  // still the running Redis
  REQUIRE(plan.config.auth.secrets.size() == 1);
  CHECK(plan.config.auth.secrets.front().id == "from-redis");  // not the file's k1
  CHECK(plan.config.limits.permissionsPerRequest == 7);        // the rest applies
  // Turning fleet mode on or off is a restart too.
  auto alone = parseConfig(config(""), "f.yaml");
  REQUIRE(alone.ok());
  CHECK(planReload(*alone, *running).restartOnly == std::vector<std::string>{"fleet"});
  CHECK_FALSE(planReload(*alone, *running).config.fleet);
  auto same = planReload(*running, *running);
  CHECK(same.restartOnly.empty());
}
