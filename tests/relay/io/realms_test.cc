// Multi-tenant realms through a live in-process worker with two UDP
// listeners: each answers challenges with its own realm, verifies keys
// against it, and its allocations get that realm's peer rules, at
// CreatePermission, per Send indication and on reload.
#include <catch2/catch.hpp>

#include "relay/stun/integrity.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::StunClient;
using tw::testing::UdpPeer;

namespace {

/// The harness with a second listener; listener A (the harness's own) serves
/// a.example and may reach `peer` through peers.realms, B serves b.example.
struct TwoRealms {
  Harness h;
  SocketAddress a, b;
  policy::Config cfg;

  explicit TwoRealms(const SocketAddress& peer, bool realmRule = true) {
    REQUIRE(h.worker->addUdpListener(*SocketAddress::parse("127.0.0.1:0")).ok());
    a = h.address;
    b = h.worker->listenerAddresses().back();
    install(peer, realmRule);
  }

  /// Parses the two-realm config for the bound ports and installs it as the
  /// next policy generation, as a SIGHUP reload does.
  void install(const SocketAddress& peer, bool realmRule) {
    auto listener = [](const SocketAddress& at, const char* realm) {
      return "  - {transport: udp, address: 127.0.0.1, port: " + std::to_string(at.port) +
             ", realm: " + realm + "}\n";
    };
    const std::string rules = realmRule ? "peers:\n  realms:\n    a.example:\n      allowed: "
                                          "[{range: 127.0.0.1/32, ports: " +
                                              std::to_string(peer.port) + "}]\n"
                                        : "";
    auto parsed = policy::parseConfig(
        "realm: test.realm\nlisteners:\n" + listener(a, "a.example") + listener(b, "b.example") +
            "relay:\n  addresses: [127.0.0.1]\n  port_range: " + std::to_string(h.config.relay.portMin) +
            "-" + std::to_string(h.config.relay.portMax) + "\nauth:\n  secrets: [{id: k1, value: \"" +
            testing::kSecret +
            "\"}]\n"
            "  realms: {a.example: {use_global_keyring: true}, b.example: {use_global_keyring: true}}\n" +
            rules,
        "realms.yaml");
    if (!parsed) FAIL(policy::formatErrors(parsed.error()));
    cfg = parsed.value();
    h.holder->store(policy::buildSnapshot(cfg, h.holder->generation() + 1, {a, b}));
    h.advance(Duration{0});
    h.server().setPolicy(h.holder->load());
  }

  /// alice with an allocation on A, bob with one on B.
  std::pair<StunClient, StunClient> allocated() {
    std::pair<StunClient, StunClient> both{client(a, "alice"), client(b, "bob")};
    REQUIRE(both.first.allocate()->code == 0);
    REQUIRE(both.second.allocate()->code == 0);
    return both;
  }

  StunClient client(const SocketAddress& listener, const std::string& user) {
    StunClient c(listener, [this] { h.pump(); });
    auto [name, pass] = h.credential(user);
    c.setCredentials(name, pass);
    return c;
  }
};

std::vector<uint8_t> payload() { return std::vector<uint8_t>(16, 0x33); }

/// Live permissions of the one allocation of `h`, and its realm.
std::pair<size_t, std::string> onlyAllocation(Harness& h) {
  std::pair<size_t, std::string> out{0, ""};
  h.server().allocations().forEach([&](turn::Allocation& a) { out = {a.permissions.size(), a.realm}; });
  return out;
}

}  // namespace

TEST_CASE("each listener challenges with its own realm") {
  UdpPeer peer;
  TwoRealms t(peer.addr);
  auto [onA, onB] = t.allocated();
  CHECK(onA.realm() == "a.example");
  CHECK(onB.realm() == "b.example");
  CHECK(t.h.server().allocations().size() == 2);
}

TEST_CASE("a REALM other than the listener's is refused with 401") {
  UdpPeer peer;
  TwoRealms t(peer.addr);
  StunClient c = t.client(t.a, "alice");
  REQUIRE(c.allocate()->code == 0);  // learns a nonce on A
  auto [name, pass] = t.h.credential("carol");
  std::vector<uint8_t> out;
  stun::MessageBuilder b(out, stun::Method::Allocate, stun::MessageClass::Request, c.newTransactionId());
  b.addRequestedTransport(17);
  b.addString(stun::attr::Username, name);
  b.addString(stun::attr::Realm, "b.example");  // B's realm, sent to A, keyed for B
  b.addString(stun::attr::Nonce, c.nonce());
  b.addMessageIntegrity(stun::longTermKey(name, "b.example", pass));
  auto reply = c.transact(b.bytes());
  REQUIRE(reply);
  CHECK(reply->code == 401);
  CHECK(std::string(*reply->msg().realm()) == "a.example");
  CHECK(t.h.server().allocations().size() == 1);
}

TEST_CASE("realm peer rules apply to that realm's allocations only") {
  UdpPeer peer;
  TwoRealms t(peer.addr);
  auto [onA, onB] = t.allocated();
  CHECK(onA.createPermission(peer.addr)->code == 0);
  CHECK(onB.createPermission(peer.addr)->code == 403);
  // The realm opened one port: another loopback port stays denied for A.
  CHECK(onA.createPermission(SocketAddress{peer.addr.ip, uint16_t(peer.addr.port + 1)})->code == 403);
  onA.sendIndication(peer.addr, payload());
  auto got = peer.receive(t.h);
  REQUIRE(got);
  CHECK(*got == payload());
  onB.sendIndication(peer.addr, payload());
  CHECK_FALSE(peer.receive(t.h, 100));
}

TEST_CASE("a reload without the realm rule revokes the realm's live permissions") {
  UdpPeer peer;
  TwoRealms t(peer.addr);
  StunClient onA = t.client(t.a, "alice");
  REQUIRE(onA.allocate()->code == 0);
  REQUIRE(onA.createPermission(peer.addr)->code == 0);
  CHECK(onlyAllocation(t.h) == std::pair<size_t, std::string>{1, "a.example"});
  t.install(peer.addr, /*realmRule=*/true);  // same rules, new generation: kept
  CHECK(onlyAllocation(t.h).first == 1);
  onA.sendIndication(peer.addr, payload());
  CHECK(peer.receive(t.h));
  t.install(peer.addr, /*realmRule=*/false);
  CHECK(onlyAllocation(t.h).first == 0);  // revoked by the reload itself
  onA.sendIndication(peer.addr, payload());
  CHECK_FALSE(peer.receive(t.h, 100));
  CHECK(onA.createPermission(peer.addr)->code == 403);
  CHECK(onA.refresh(600)->code == 0);  // the allocation itself lives on
}
