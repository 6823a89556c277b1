// The attacks of threats.md that had no test or only a weak one, against an
// in-process worker on real loopback sockets (docs/threats.md maps every
// line of threats.md to its tests).
#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::stun::Method;
using tw::testing::Harness;
using tw::testing::StunClient;

namespace {

using Peer = testing::UdpPeer;

const std::string kAllowLoopback = "peers:\n  allowed: [127.0.0.1/32, 127.0.0.2/32]\n";
constexpr const char* kRealm = "test.realm";

/// What a hand-built authenticated request carries; `omit` names one of
/// USERNAME, REALM or NONCE to leave out.
struct Auth {
  std::string user;
  std::array<uint8_t, 16> key{};
  std::string nonce;
  uint16_t omit = 0;
  size_t sha256Length = 0;  ///< MESSAGE-INTEGRITY-SHA256 of this length instead of MI
};

Auth restAuth(const std::string& name, const std::string& nonce) {
  return Auth{name, stun::longTermKey(name, kRealm, policy::restPassword(testing::kSecret, name)), nonce};
}

/// The NONCE of an unauthenticated Allocate's 401.
std::string challengeNonce(StunClient& c) {
  auto r = c.allocate();
  REQUIRE(r);
  REQUIRE(r->code == 401);
  return std::string(*r->msg().nonce());
}

/// USERNAME, REALM, NONCE (minus `a.omit`) and MESSAGE-INTEGRITY after the
/// attributes `add` writes.
std::vector<uint8_t> signedRequest(StunClient& c, Method m, const Auth& a,
                                   const StunClient::AddAttrs& add = {}) {
  std::vector<uint8_t> out;
  stun::MessageBuilder b(out, m, stun::MessageClass::Request, c.newTransactionId());
  if (add) add(b);
  if (a.omit != stun::attr::Username) b.addString(stun::attr::Username, a.user);
  if (a.omit != stun::attr::Realm) b.addString(stun::attr::Realm, kRealm);
  if (a.omit != stun::attr::Nonce) b.addString(stun::attr::Nonce, a.nonce);
  if (a.sha256Length) {
    b.addMessageIntegritySha256(a.key, a.sha256Length);
  } else {
    b.addMessageIntegrity(a.key);
  }
  return out;
}

/// Appends a TLV after everything already in `msg` (e.g. after MESSAGE-INTEGRITY,
/// which the builder refuses to do) and fixes the header length.
void appendRaw(std::vector<uint8_t>& msg, uint16_t type, std::vector<uint8_t> value) {
  const size_t len = value.size();
  value.resize((len + 3) / 4 * 4, 0);
  msg.insert(msg.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
                         static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
  msg.insert(msg.end(), value.begin(), value.end());
  const size_t body = msg.size() - 20;
  msg[2] = static_cast<uint8_t>(body >> 8);
  msg[3] = static_cast<uint8_t>(body);
}

std::vector<uint8_t> u32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

/// XOR-PEER-ADDRESS value of an IPv4 peer (RFC 8489 §14.2).
std::vector<uint8_t> xorPeer(const SocketAddress& p) {
  const uint32_t ip = p.ip.v4Value() ^ 0x2112A442u;
  const uint16_t port = p.port ^ 0x2112;
  std::vector<uint8_t> v{0, 0x01, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
  auto a = u32(ip);
  v.insert(v.end(), a.begin(), a.end());
  return v;
}

/// Every padding byte of every attribute in a STUN message, in order.
std::vector<uint8_t> paddingBytes(const std::vector<uint8_t>& msg) {
  std::vector<uint8_t> pad;
  for (size_t at = 20; at + 4 <= msg.size();) {
    const size_t len = (msg[at + 2] << 8) | msg[at + 3];
    const size_t padded = (len + 3) / 4 * 4;
    REQUIRE(at + 4 + padded <= msg.size());
    pad.insert(pad.end(), msg.begin() + static_cast<long>(at + 4 + len),
               msg.begin() + static_cast<long>(at + 4 + padded));
    at += 4 + padded;
  }
  return pad;
}

uint64_t malformed(Harness& h) { return h.server().counters().dropped(turn::DropReason::Malformed); }

}  // namespace

TEST_CASE("threats: MESSAGE-INTEGRITY without USERNAME, REALM or NONCE gets 400, each one") {
  Harness h;
  StunClient c = h.client();
  const auto [name, pass] = h.credential("alice");
  Auth a = restAuth(name, challengeNonce(c));
  auto transport = [](stun::MessageBuilder& b) { b.addRequestedTransport(17); };
  for (uint16_t missing : {stun::attr::Username, stun::attr::Realm, stun::attr::Nonce}) {
    INFO("missing attribute 0x" << std::hex << missing);
    a.omit = missing;
    auto r = c.transact(signedRequest(c, Method::Allocate, a, transport));
    REQUIRE(r);
    CHECK(r->code == 400);
  }
  CHECK(h.server().allocations().size() == 0);
  a.omit = 0;  // the same request with all three is accepted
  auto ok = c.transact(signedRequest(c, Method::Allocate, a, transport));
  REQUIRE(ok);
  CHECK(ok->code == 0);
}

TEST_CASE("threats: a nonce issued to 127.0.0.1 and replayed from 127.0.0.2 gets 438 and a fresh nonce") {
  Harness h;
  StunClient owner = h.client();
  const std::string nonce = challengeNonce(owner);
  StunClient thief(
      h.address, [&] { h.pump(); }, *SocketAddress::parse("127.0.0.2:0"));
  const auto [name, pass] = h.credential("alice");
  auto transport = [](stun::MessageBuilder& b) { b.addRequestedTransport(17); };
  auto replay = thief.transact(signedRequest(thief, Method::Allocate, restAuth(name, nonce), transport));
  REQUIRE(replay);
  CHECK(replay->code == 438);
  REQUIRE(replay->msg().nonce());
  const std::string fresh(*replay->msg().nonce());
  CHECK(fresh != nonce);
  CHECK(h.server().allocations().size() == 0);
  // The fresh nonce is good from 127.0.0.2; the original still works from its owner.
  auto retry = thief.transact(signedRequest(thief, Method::Allocate, restAuth(name, fresh), transport));
  REQUIRE(retry);
  CHECK(retry->code == 0);
  auto own = owner.transact(signedRequest(owner, Method::Allocate, restAuth(name, nonce), transport));
  REQUIRE(own);
  CHECK(own->code == 0);
}

TEST_CASE("threats: a long username sharing a valid user's prefix never matches") {
  // A static user, and a REST username of exactly 512 bytes (the maximum).
  const auto staticKey = stun::longTermKey("alice", kRealm, "alice-password");
  Harness h("  users:\n    - {name: alice, key: " + hexEncode(staticKey) + "}\n");
  StunClient c = h.client();
  const std::string nonce = challengeNonce(c);
  auto transport = [](stun::MessageBuilder& b) { b.addRequestedTransport(17); };
  auto code = [&](const Auth& a) {
    auto r = c.transact(signedRequest(c, Method::Allocate, a, transport));
    REQUIRE(r);
    return r->code;
  };
  const std::string prefix = std::to_string(h.clock.unixSeconds() + 3600) + ":";
  const std::string longName = prefix + std::string(512 - prefix.size(), 'u');
  REQUIRE(longName.size() == 512);
  const Auth valid = restAuth(longName, nonce);
  // Longer names whose first 512 bytes are the valid one, signed with the
  // valid user's key: a server that truncated USERNAME would accept them.
  for (const std::string& tail : {std::string("u"), std::string("x"), std::string(1, '\0') + "junk"}) {
    Auth a = valid;
    a.user = longName + tail;
    CHECK(code(a) == 401);
  }
  for (const std::string& name :
       {std::string("alicex"), std::string("alice") + '\0', std::string("alic"), std::string("alice ")}) {
    INFO(name);
    CHECK(code(Auth{name, staticKey, nonce}) == 401);
  }
  CHECK(h.server().allocations().size() == 0);
  CHECK(code(valid) == 0);
  StunClient other = h.client();
  CHECK(other
            .transact(signedRequest(other, Method::Allocate, Auth{"alice", staticKey, challengeNonce(other)},
                                    transport))
            ->code == 0);
}

TEST_CASE("threats: LIFETIME and XOR-PEER-ADDRESS appended after MESSAGE-INTEGRITY are not acted on") {
  Harness h(kAllowLoopback);
  StunClient c = h.client();
  const auto [name, pass] = h.credential("alice");
  const Auth a = restAuth(name, challengeNonce(c));

  // Allocate with LIFETIME 0xFFFFFFFF after MI: the default lifetime, not the maximum.
  auto alloc =
      signedRequest(c, Method::Allocate, a, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); });
  appendRaw(alloc, stun::attr::Lifetime, u32(0xFFFFFFFF));
  auto allocated = c.transact(alloc);
  REQUIRE(allocated);
  REQUIRE(allocated->code == 0);
  CHECK(allocated->msg().lifetime() == 600u);
  const SocketAddress relayed = *allocated->msg().xorRelayedAddress();

  // Refresh with LIFETIME 0 after MI: the allocation is refreshed, not deleted.
  auto refresh = signedRequest(c, Method::Refresh, a);
  appendRaw(refresh, stun::attr::Lifetime, u32(0));
  auto refreshed = c.transact(refresh);
  REQUIRE(refreshed);
  CHECK(refreshed->code == 0);
  CHECK(refreshed->msg().lifetime() == 600u);
  CHECK(h.server().allocations().size() == 1);

  // CreatePermission for peer A, with peer B (allowed too, on another IP) appended
  // after MI: only A is permitted.
  Peer pa("127.0.0.1:0"), pb("127.0.0.2:0");
  auto perm = signedRequest(c, Method::CreatePermission, a, [&](stun::MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, pa.addr);
  });
  appendRaw(perm, stun::attr::XorPeerAddress, xorPeer(pb.addr));
  auto permitted = c.transact(perm);
  REQUIRE(permitted);
  CHECK(permitted->code == 0);
  const uint64_t before = h.server().counters().dropped(turn::DropReason::NoPermission);
  pb.sendTo(relayed, std::vector<uint8_t>{'b'});
  CHECK_FALSE(c.receive(300));
  CHECK(h.server().counters().dropped(turn::DropReason::NoPermission) == before + 1);
  pa.sendTo(relayed, std::vector<uint8_t>{'a'});
  CHECK(c.receive(500));
}

TEST_CASE(
    "threats: MESSAGE-INTEGRITY-SHA256 of 16-32 bytes in steps of 4 verifies, other MAC lengths are "
    "dropped") {
  Harness h;
  StunClient c = h.client();
  const auto [name, pass] = h.credential("alice");
  Auth a = restAuth(name, challengeNonce(c));
  REQUIRE(c.transact(signedRequest(c, Method::Allocate, a, [](stun::MessageBuilder& b) {
             b.addRequestedTransport(17);
           }))->code == 0);
  for (size_t len : {16, 20, 24, 28, 32}) {
    INFO("MI-SHA256 length " << len);
    a.sha256Length = len;
    auto r = c.transact(signedRequest(c, Method::Refresh, a));
    REQUIRE(r);
    CHECK(r->code == 0);
  }
  // Wrong lengths: MI-SHA256 of 12, 18 and 36 bytes, MI of 16 and 32 bytes,
  // each with a body that is otherwise a valid Refresh: dropped and counted.
  a.sha256Length = 0;
  const std::pair<uint16_t, size_t> bad[] = {{stun::attr::MessageIntegritySha256, 12},
                                             {stun::attr::MessageIntegritySha256, 18},
                                             {stun::attr::MessageIntegritySha256, 36},
                                             {stun::attr::MessageIntegrity, 16},
                                             {stun::attr::MessageIntegrity, 32}};
  for (const auto& [type, len] : bad) {
    INFO("attribute 0x" << std::hex << type << " length " << std::dec << len);
    std::vector<uint8_t> req;
    stun::MessageBuilder b(req, Method::Refresh, stun::MessageClass::Request, c.newTransactionId());
    b.addString(stun::attr::Username, a.user).addString(stun::attr::Realm, kRealm);
    b.addString(stun::attr::Nonce, a.nonce);
    appendRaw(req, type, std::vector<uint8_t>(len, 0x5a));
    const uint64_t before = malformed(h);
    c.send(req);
    CHECK_FALSE(c.receive(200));
    CHECK(malformed(h) == before + 1);
  }
}

TEST_CASE("threats: PASSWORD-ALGORITHMS bid-down (RFC 8489 section 9.2) gets 400") {
  Harness h;
  StunClient c = h.client();
  auto challenge = c.allocate();
  REQUIRE(challenge);
  REQUIRE(challenge->code == 401);
  // The server offers no algorithm list and does not claim the feature in its
  // nonce cookie: it cannot be bid down from an algorithm it never offered.
  CHECK_FALSE(challenge->msg().find(stun::attr::PasswordAlgorithms));
  CHECK(challenge->msg().nonce()->rfind("obMatJos2", 0) != 0);
  const auto [name, pass] = h.credential("alice");
  const Auth a = restAuth(name, std::string(*challenge->msg().nonce()));
  const std::vector<uint8_t> sha256{0x00, 0x02, 0x00, 0x00};
  const std::vector<uint8_t> both{0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00};
  const std::vector<std::pair<std::vector<uint16_t>, std::string>> claims = {
      {{stun::attr::PasswordAlgorithm}, "PASSWORD-ALGORITHM SHA-256 alone"},
      {{stun::attr::PasswordAlgorithms}, "PASSWORD-ALGORITHMS alone"},
      {{stun::attr::PasswordAlgorithms, stun::attr::PasswordAlgorithm}, "a list the server never sent"}};
  for (const auto& [attrs, what] : claims) {
    INFO(what);
    const std::vector<uint16_t>& types = attrs;  // clang 14 lambdas cannot capture a structured binding
    auto r = c.transact(signedRequest(c, Method::Allocate, a, [&](stun::MessageBuilder& b) {
      b.addRequestedTransport(17);
      for (uint16_t t : types) b.addBytes(t, t == stun::attr::PasswordAlgorithm ? sha256 : both);
    }));
    REQUIRE(r);
    CHECK(r->code == 400);
  }
  CHECK(h.server().allocations().size() == 0);
  auto plain = c.transact(
      signedRequest(c, Method::Allocate, a, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }));
  REQUIRE(plain);
  CHECK(plain->code == 0);
}

TEST_CASE("threats: padding bytes of every answer are zero") {
  Harness h;  // realm "test.realm": 10 bytes, 2 padding bytes
  StunClient c = h.client();
  std::vector<std::vector<uint8_t>> answers;
  auto keep = [&](std::optional<testing::Reply> r, int code) {
    REQUIRE(r);
    CHECK(r->code == code);
    answers.push_back(r->bytes);
  };
  auto challenge = c.allocate();
  REQUIRE(challenge);
  const std::string nonce(*challenge->msg().nonce());
  keep(challenge, 401);
  const auto [name, pass] = h.credential("alice");
  Auth a = restAuth(name, nonce);
  a.omit = stun::attr::Realm;
  keep(c.transact(signedRequest(c, Method::Allocate, a)), 400);  // "Bad Request": 1 byte
  a.omit = 0;
  a.nonce = "forged-nonce";
  keep(c.transact(signedRequest(c, Method::Allocate, a)), 438);  // "Stale Nonce": 1 byte
  keep(c.request(Method::Binding,
                 [](stun::MessageBuilder& b) {
                   const uint8_t v[2] = {1, 2};
                   b.addBytes(0x0031, v);  // 420 with UNKNOWN-ATTRIBUTES of 2 bytes
                 }),
       420);
  StunClient authed = h.authedClient();
  keep(authed.allocate(), 0);
  keep(authed.createPermission(*SocketAddress::parse("10.0.0.1:80")), 403);  // "Forbidden": 3
  keep(authed.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }), 437);
  size_t padBytes = 0;
  for (const auto& msg : answers) {
    const auto pad = paddingBytes(msg);
    padBytes += pad.size();
    CHECK(std::count(pad.begin(), pad.end(), 0) == static_cast<long>(pad.size()));
  }
  CHECK(padBytes >= 10);  // the answers above do carry padding
}

TEST_CASE("threats: EVEN-PORT R=0 cycles leave the port pool unchanged") {
  // 29 fresh clients, each challenged once: above the default unauthenticated burst.
  Harness h("rate_limits:\n  unauthenticated_per_ip: {rate: 100, burst: 100}\n", 8);
  REQUIRE(h.pool().capacity() == 8);
  for (int i = 0; i < 20; ++i) {
    StunClient c = h.authedClient("even" + std::to_string(i));
    auto r = c.allocate([](stun::MessageBuilder& b) { b.addEvenPort(false); });
    REQUIRE(r->code == 0);
    CHECK(r->msg().xorRelayedAddress()->port % 2 == 0);
    CHECK_FALSE(r->msg().reservationToken());
    CHECK(h.pool().inUse() == 1);  // no reserved neighbour
    REQUIRE(c.refresh(0)->code == 0);
    CHECK(h.pool().inUse() == 0);  // immediately, without waiting for any expiry
  }
  // The whole pool is still there: 8 allocations fit, the 9th gets 508, and
  // deleting one lets the next in.
  std::vector<StunClient> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(h.authedClient("fill" + std::to_string(i)));
    CHECK(clients.back().allocate()->code == 0);
  }
  StunClient late = h.authedClient("late");
  CHECK(late.allocate()->code == 508);
  REQUIRE(clients.front().refresh(0)->code == 0);
  CHECK(late.allocate()->code == 0);
}

TEST_CASE("threats: an unsupported REQUESTED-TRANSPORT gets 442") {
  Harness h;
  StunClient c = h.authedClient();
  for (uint8_t proto : {1, 58, 132, 255}) {
    INFO("protocol " << int(proto));
    auto r = c.request(Method::Allocate, [&](stun::MessageBuilder& b) { b.addRequestedTransport(proto); });
    REQUIRE(r);
    CHECK(r->code == 442);
  }
  CHECK(h.server().allocations().size() == 0);
}

TEST_CASE("threats: more XOR-PEER-ADDRESS than permissions_per_request is a 400 that installs none") {
  Harness h(kAllowLoopback + "limits:\n  permissions_per_request: 4\n");
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  Peer peer("127.0.0.2:0");
  auto withPeers = [&](int n) {
    return c.request(Method::CreatePermission, [&](stun::MessageBuilder& b) {
      b.addXorAddress(stun::attr::XorPeerAddress, peer.addr);
      for (int i = 1; i < n; ++i)
        b.addXorAddress(stun::attr::XorPeerAddress,
                        SocketAddress{IpAddress::v4(127, 0, 0, 1), uint16_t(9000 + i)});
    });
  };
  CHECK(withPeers(5)->code == 400);
  peer.sendTo(relayed, std::vector<uint8_t>{'x'});
  CHECK_FALSE(c.receive(300));
  CHECK(withPeers(4)->code == 0);
  peer.sendTo(relayed, std::vector<uint8_t>{'y'});
  CHECK(c.receive(500));
}

TEST_CASE("threats: datagrams that are not STUN are dropped, each counted, none answered") {
  Harness h;
  StunClient c = h.client();
  auto header = [&](uint16_t length, size_t body) {
    std::vector<uint8_t> d{
        0x00, 0x01, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0x21, 0x12, 0xA4, 0x42};
    const auto txn = c.newTransactionId();
    d.insert(d.end(), txn.begin(), txn.end());
    d.resize(20 + body, 0);
    return d;
  };
  std::vector<uint8_t> wrongCookie = header(0, 0);
  wrongCookie[4] = 0x12;
  std::vector<uint8_t> short19 = header(0, 0);
  short19.pop_back();
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> junk = {
      {"19 bytes", short19},
      {"wrong magic cookie", wrongCookie},
      {"length 6: not a multiple of 4", header(6, 8)},
      {"length 8 with 4 bytes of body", header(8, 4)},
      {"length 4 with 8 bytes of body", header(4, 8)},
  };
  for (const auto& [what, bytes] : junk) {
    INFO(what);
    const uint64_t before = malformed(h);
    c.send(bytes);
    CHECK_FALSE(c.receive(200));
    CHECK(malformed(h) == before + 1);
  }
  auto r = c.request(Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
}

TEST_CASE("threats: oversized datagrams from a client or a peer are dropped and counted") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  auto oversize = [&] { return h.server().counters().dropped(turn::DropReason::Oversize); };
  // From the client: a Binding header claiming all of a 9,000-byte datagram.
  std::vector<uint8_t> big(9000, 0);
  const uint8_t head[] = {0x00, 0x01, 0x23, 0x14, 0x21, 0x12, 0xA4, 0x42};
  std::copy(std::begin(head), std::end(head), big.begin());
  c.send(big);
  CHECK_FALSE(c.receive(200));
  CHECK(oversize() == 1);
  // From a permitted peer, to the relayed address: nothing reaches the client.
  Peer peer;
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  peer.sendTo(relayed, std::vector<uint8_t>(9000, 0x55));
  CHECK_FALSE(c.receive(300));
  CHECK(oversize() == 2);
  peer.sendTo(relayed, std::vector<uint8_t>{'o', 'k'});
  CHECK(c.receive(500));
  CHECK(c.request(Method::Binding)->code == 0);
}

TEST_CASE("threats: a zero-length USERNAME never authenticates") {
  // A static user with an empty password must not make "" a valid name.
  const auto emptyPasswordKey = stun::longTermKey("alice", kRealm, "");
  Harness h("  users:\n    - {name: alice, key: " + hexEncode(emptyPasswordKey) + "}\n");
  StunClient c = h.client();
  const std::string nonce = challengeNonce(c);
  for (const auto& key : {stun::longTermKey("", kRealm, ""), emptyPasswordKey}) {
    auto r = c.transact(signedRequest(c, Method::Allocate, Auth{"", key, nonce},
                                      [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }));
    REQUIRE(r);
    CHECK(r->code == 401);
  }
  CHECK(h.server().allocations().size() == 0);
}

namespace {

/// The Send destinations the worker reports (what the relay_scan detector's
/// SendTargets counts on the metrics side).
struct SendTargetLog final : turn::RelayEvents {
  void onSendTarget(const turn::Allocation& a, const SocketAddress& peer) override {
    ids.insert(a.id);
    peers.push_back(peer);
  }
  size_t distinct() const { return std::set<SocketAddress>(peers.begin(), peers.end()).size(); }
  std::set<uint64_t> ids;
  std::vector<SocketAddress> peers;
};

}  // namespace

TEST_CASE(
    "threats: Send to many ports of one permitted IP reports each destination but ChannelData does not") {
  SendTargetLog targets;  // outlives the worker, which reports to it until it stops
  Harness h(kAllowLoopback);
  h.events.add(targets, /*sendTargets=*/true);
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  std::vector<std::unique_ptr<Peer>> ports;
  for (int i = 0; i < 24; ++i) ports.push_back(std::make_unique<Peer>());
  REQUIRE(c.createPermission(ports[0]->addr)->code == 0);  // per IP: covers all 24 ports
  REQUIRE(c.channelBind(0x4001, ports[0]->addr)->code == 0);
  turn::Allocation* a = nullptr;
  h.server().allocations().forEach([&](turn::Allocation& x) { a = &x; });
  REQUIRE(a);
  const std::vector<uint8_t> data{1, 2, 3, 4};

  std::vector<uint8_t> frame;
  stun::encodeChannelData(frame, 0x4001, data, false);
  for (int i = 0; i < 10; ++i) {
    c.send(frame);
    REQUIRE(ports[0]->receive(h));
  }
  CHECK(targets.peers.empty());  // ChannelData is per channel: not reported

  c.sendIndication(*SocketAddress::parse("127.0.0.2:9"), data);  // no permission: dropped
  h.pump();
  CHECK(targets.peers.empty());

  for (int round = 0; round < 3; ++round) {
    for (auto& p : ports) {
      c.sendIndication(p->addr, data);
      REQUIRE(p->receive(h));
    }
  }
  // 24 destinations, each sent to three times: every relayed Send is
  // reported, with its allocation (the tracker dedupes, not the core).
  CHECK(targets.peers.size() == 72);
  CHECK(targets.distinct() == 24);
  CHECK(targets.ids == std::set<uint64_t>{a->id});
  CHECK(targets.peers.back() == ports[23]->addr);
}
