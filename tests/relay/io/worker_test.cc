// The request pipeline end to end on real loopback sockets: an in-process
// worker, a manual clock, and the project's STUN client.
#include <event2/thread.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "relay/io/udp_socket.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::stun::Method;
using tw::testing::Harness;
using tw::testing::kAllowLoopback;
using tw::testing::StunClient;

namespace {

/// A plain UDP socket standing in for a peer on loopback.
using Peer = testing::UdpPeer;

std::vector<uint8_t> bytesOf(std::string_view s) { return {s.begin(), s.end()}; }

SocketAddress relayedOf(const testing::Reply& r) { return *r.msg().xorRelayedAddress(); }

}  // namespace

TEST_CASE("Binding reflects the source address with no auth and no SOFTWARE") {
  Harness h;
  StunClient c = h.client();
  auto r = c.request(Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
  CHECK(r->msg().xorMappedAddress() == c.local());
  CHECK_FALSE(r->msg().software());
  // Amplification: a 28-byte request (header + FINGERPRINT) gets 40 bytes.
  CHECK(r->bytes.size() <= 40);
}

TEST_CASE("Allocate is challenged, then succeeds with relayed address and lifetime") {
  Harness h;
  StunClient anon = h.client();
  auto challenge = anon.allocate();
  REQUIRE(challenge);
  CHECK(challenge->code == 401);
  CHECK(challenge->msg().realm() == "test.realm");
  CHECK(challenge->msg().nonce().has_value());

  StunClient c = h.authedClient();
  auto r = c.allocate();
  REQUIRE(r);
  REQUIRE(r->code == 0);
  const auto relayed = relayedOf(*r);
  CHECK(relayed.ip.toString() == "127.0.0.1");
  CHECK(relayed.port >= h.config.relay.portMin);
  CHECK(relayed.port <= h.config.relay.portMax);
  CHECK(r->msg().lifetime() == 600u);
  CHECK(r->msg().xorMappedAddress() == c.local());
  CHECK(r->msg().hasMessageIntegrity());
  CHECK(h.server().allocations().size() == 1);
}

TEST_CASE("Allocate retransmission gets the same answer, a new transaction gets 437") {
  Harness h;
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);  // learns the nonce
  std::vector<uint8_t> req;
  stun::MessageBuilder b(req, Method::Allocate, stun::MessageClass::Request, c.newTransactionId());
  b.addRequestedTransport(17);
  auto [name, pass] = h.credential("alice");
  b.addString(stun::attr::Username, name);
  b.addString(stun::attr::Realm, c.realm());
  b.addString(stun::attr::Nonce, c.nonce());
  b.addMessageIntegrity(stun::longTermKey(name, c.realm(), pass));
  // First transmission on a fresh 5-tuple, then the same bytes again.
  StunClient other = h.client();
  auto first = other.transact(b.bytes());
  auto again = other.transact(b.bytes());
  REQUIRE(first);
  REQUIRE(again);
  CHECK(first->code == 0);
  CHECK(first->bytes == again->bytes);
  other.setCredentials(name, pass);
  auto fresh = other.allocate();
  REQUIRE(fresh);
  CHECK(fresh->code == 437);
}

TEST_CASE("Requests from a 5-tuple with no allocation get 437") {
  Harness h;
  StunClient c = h.authedClient();
  auto r = c.refresh(600);
  REQUIRE(r);
  CHECK(r->code == 437);
}

TEST_CASE("Another valid user on the owner's 5-tuple gets 441") {
  Harness h;
  StunClient c = h.authedClient("alice");
  REQUIRE(c.allocate()->code == 0);
  auto [name, pass] = h.credential("mallory");
  c.setCredentials(name, pass);
  auto r = c.refresh(600);
  REQUIRE(r);
  CHECK(r->code == 441);
}

TEST_CASE("Peer rules: default deny list, unspecified, self and loop are 403") {
  Harness h;
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  for (const char* peer : {"10.0.0.1:80", "127.0.0.1:22", "169.254.169.254:80", "0.0.0.0:80",
                           "192.168.1.1:53", "100.100.100.200:80"}) {
    INFO(peer);
    auto r = c.createPermission(*SocketAddress::parse(peer));
    REQUIRE(r);
    CHECK(r->code == 403);
  }
  CHECK(c.createPermission(h.address)->code == 403);
  CHECK(c.createPermission(relayedOf(*alloc))->code == 403);
  // IPv4 peers only for an IPv4 relay: an IPv6 peer is a family mismatch.
  CHECK(c.createPermission(*SocketAddress::parse("[2606:4700::1]:80"))->code == 443);
}

TEST_CASE("Allowed loopback peer: Send, Data, ChannelBind and ChannelData both ways") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = relayedOf(*alloc);
  Peer peer;
  REQUIRE(c.createPermission(peer.addr)->code == 0);

  c.sendIndication(peer.addr, bytesOf("hello peer"));
  auto atPeer = peer.receive(h);
  REQUIRE(atPeer);
  CHECK(*atPeer == bytesOf("hello peer"));

  peer.sendTo(relayed, bytesOf("hello client"));
  auto data = c.receive(1000);
  REQUIRE(data);
  auto ind = stun::decode(*data);
  REQUIRE(ind);
  CHECK(ind->method() == Method::Data);
  CHECK(ind->xorAddress(*ind->find(stun::attr::XorPeerAddress)) == peer.addr);
  REQUIRE(ind->data());
  CHECK(std::vector<uint8_t>(ind->data()->begin(), ind->data()->end()) == bytesOf("hello client"));

  REQUIRE(c.channelBind(0x4001, peer.addr)->code == 0);
  std::vector<uint8_t> cd;
  stun::encodeChannelData(cd, 0x4001, bytesOf("via channel"), false);
  c.send(cd);
  auto viaChannel = peer.receive(h);
  REQUIRE(viaChannel);
  CHECK(*viaChannel == bytesOf("via channel"));

  peer.sendTo(relayed, bytesOf("back"));
  auto back = c.receive(1000);
  REQUIRE(back);
  auto decoded = stun::decodeChannelData(*back);
  REQUIRE(decoded);
  CHECK(decoded->channel == 0x4001);
  CHECK(std::vector<uint8_t>(decoded->payload.begin(), decoded->payload.end()) == bytesOf("back"));
}

TEST_CASE("ChannelBind validates numbers and keeps channel and peer paired") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  Peer p1, p2;
  for (uint16_t bad : {0x3FFF, 0x8000, 0xFFFF, 0x0000}) {
    INFO(bad);
    CHECK(c.channelBind(bad, p1.addr)->code == 400);
  }
  CHECK(c.channelBind(0x7FFF, p1.addr)->code == 0);    // RFC 5766 range by default
  CHECK(c.channelBind(0x7FFF, p2.addr)->code == 400);  // number taken by another peer
  CHECK(c.channelBind(0x4000, p1.addr)->code == 400);  // peer taken by another number
  CHECK(c.channelBind(0x7FFF, p1.addr)->code == 0);    // refresh
}

TEST_CASE("limits.channel_numbers: rfc8656 narrows the range") {
  Harness h(kAllowLoopback + "limits:\n  channel_numbers: rfc8656\n");
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  Peer p;
  CHECK(c.channelBind(0x5000, p.addr)->code == 400);
  CHECK(c.channelBind(0x4FFF, p.addr)->code == 0);
}

TEST_CASE("Peer data without permission is dropped and counted") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  Peer stranger;
  stranger.sendTo(relayedOf(*alloc), bytesOf("let me in"));
  CHECK_FALSE(c.receive(300));
  CHECK(h.server().counters().dropped(turn::DropReason::NoPermission) == 1);
}

TEST_CASE("Permissions expire after 300 s and channels after 600 s") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  auto alloc = c.allocate([](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, 3600); });
  REQUIRE(alloc->code == 0);
  CHECK(alloc->msg().lifetime() == 3600u);
  Peer peer;
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  h.advance(std::chrono::seconds(299));
  peer.sendTo(relayedOf(*alloc), bytesOf("still ok"));
  CHECK(c.receive(500));
  h.advance(std::chrono::seconds(2));
  peer.sendTo(relayedOf(*alloc), bytesOf("too late"));
  CHECK_FALSE(c.receive(300));
}

TEST_CASE("Allocation lifetime: clamped to the max, refreshed, deleted by LIFETIME 0") {
  Harness h;
  StunClient c = h.authedClient();
  auto alloc = c.allocate([](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, 0xFFFFFFFF); });
  REQUIRE(alloc->code == 0);
  CHECK(alloc->msg().lifetime() == 3600u);  // max_allocation_lifetime default 1h
  const size_t used = h.pool().inUse();
  CHECK(used == 1);
  auto r = c.refresh(0);
  REQUIRE(r);
  CHECK(r->code == 0);
  CHECK(r->msg().lifetime() == 0u);
  CHECK(h.server().allocations().size() == 0);
  CHECK(h.pool().inUse() == 0);
}

TEST_CASE("Allocations expire with their lifetime and free their port") {
  Harness h;
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  h.advance(std::chrono::seconds(599));
  CHECK(h.server().allocations().size() == 1);
  h.advance(std::chrono::seconds(2));
  CHECK(h.server().allocations().size() == 0);
  CHECK(h.pool().inUse() == 0);
}

TEST_CASE("EVEN-PORT R=1 reserves the next port for a RESERVATION-TOKEN") {
  Harness h;
  StunClient a = h.authedClient("a");
  auto first = a.allocate([](stun::MessageBuilder& b) { b.addEvenPort(true); });
  REQUIRE(first->code == 0);
  const uint16_t port = relayedOf(*first).port;
  CHECK(port % 2 == 0);
  auto token = first->msg().reservationToken();
  REQUIRE(token);
  CHECK(h.pool().inUse() == 2);

  StunClient b = h.authedClient("b");
  auto both = b.allocate([&](stun::MessageBuilder& m) {
    m.addEvenPort(false);
    m.addU64(stun::attr::ReservationToken, *token);
  });
  CHECK(both->code == 400);
  auto second = b.allocate([&](stun::MessageBuilder& m) { m.addU64(stun::attr::ReservationToken, *token); });
  REQUIRE(second->code == 0);
  CHECK(relayedOf(*second).port == port + 1);
  StunClient d = h.authedClient("d");
  auto reused = d.allocate([&](stun::MessageBuilder& m) { m.addU64(stun::attr::ReservationToken, *token); });
  CHECK(reused->code == 508);
}

TEST_CASE("Unredeemed reservations return to the pool after 30 s, R=0 cycles leak nothing") {
  Harness h;
  for (bool reserve : {true, false}) {
    for (int i = 0; i < 5; ++i) {
      StunClient c = h.authedClient("cycle" + std::to_string(i));
      auto r = c.allocate([&](stun::MessageBuilder& b) { b.addEvenPort(reserve); });
      REQUIRE(r->code == 0);
      REQUIRE(c.refresh(0)->code == 0);
    }
  }
  h.advance(std::chrono::seconds(31));
  CHECK(h.pool().inUse() == 0);
}

TEST_CASE("Allocate errors: no transport 400, SCTP 442, TCP over UDP 400, IPv6 family 440") {
  Harness h;
  StunClient c = h.authedClient();
  auto noTransport = c.request(Method::Allocate, {});
  CHECK(noTransport->code == 400);
  auto sctp = c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(132); });
  CHECK(sctp->code == 442);
  // RFC 6062 §5.1: a TCP allocation needs a TCP or TLS control connection.
  auto tcp = c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(6); });
  CHECK(tcp->code == 400);
  auto v6 = c.allocate([](stun::MessageBuilder& b) {
    const uint8_t fam[4] = {0x02, 0, 0, 0};
    b.addBytes(stun::attr::RequestedAddressFamily, fam);
  });
  CHECK(v6->code == 440);
}

TEST_CASE("Auth gate: bad credentials get 401, missing attributes 400, stale nonce 438") {
  Harness h;
  auto expect = [&](const std::string& user, const std::string& pass, int code) {
    StunClient c = h.client();
    c.setCredentials(user, pass);
    auto r = c.allocate();
    REQUIRE(r);
    INFO(user);
    CHECK(r->code == code);
  };
  const int64_t now = h.clock.unixSeconds();
  auto sign = [](const std::string& u) { return policy::restPassword(testing::kSecret, u); };
  const std::string expired = std::to_string(now - 3600) + ":bob";
  expect(expired, sign(expired), 401);
  const std::string far = std::to_string(now + 10 * 86400) + ":bob";
  expect(far, sign(far), 401);
  for (std::string bad : {"bob", ":bob", "-5:bob", "99999999999999999999:bob", " 123:bob"})
    expect(bad, sign(bad), 401);
  expect(std::string(513, 'a'), "x", 401);
  const std::string ok = std::to_string(now + 600) + ":bob";
  expect(ok, "wrong-password", 401);
  expect(ok, sign(ok), 0);

  // MESSAGE-INTEGRITY without NONCE: 400.
  StunClient c = h.client();
  std::vector<uint8_t> req;
  stun::MessageBuilder b(req, Method::Allocate, stun::MessageClass::Request, c.newTransactionId());
  b.addRequestedTransport(17).addString(stun::attr::Username, ok);
  b.addMessageIntegrity(stun::longTermKey(ok, "test.realm", sign(ok)));
  CHECK(c.transact(b.bytes())->code == 400);
}

TEST_CASE("A nonce goes stale with time and is bound to the client address") {
  Harness h;
  StunClient c = h.authedClient();
  REQUIRE(c.allocate()->code == 0);
  h.advance(h.config.auth.nonceLifetime + std::chrono::seconds(1));
  // StunClient retries once on 438 with the fresh nonce, so look at the raw reply.
  std::vector<uint8_t> req;
  auto [name, pass] = h.credential("alice");
  stun::MessageBuilder b(req, Method::Refresh, stun::MessageClass::Request, c.newTransactionId());
  b.addString(stun::attr::Username, name).addString(stun::attr::Realm, c.realm());
  b.addString(stun::attr::Nonce, c.nonce());
  b.addMessageIntegrity(stun::longTermKey(name, c.realm(), pass));
  auto stale = c.transact(b.bytes());
  REQUIRE(stale);
  CHECK(stale->code == 438);
  CHECK(stale->msg().nonce() != c.nonce());
}

TEST_CASE("Unknown comprehension-required attribute gets 420 with UNKNOWN-ATTRIBUTES") {
  Harness h;
  StunClient c = h.client();
  std::vector<uint8_t> req;
  stun::MessageBuilder b(req, Method::Binding, stun::MessageClass::Request, c.newTransactionId());
  const uint8_t v[4] = {1, 2, 3, 4};
  b.addBytes(0x0031, v);
  auto r = c.transact(b.bytes());
  REQUIRE(r);
  CHECK(r->code == 420);
  const stun::Message m = r->msg();  // RawAttribute pointers live in the Message
  const auto* ua = m.find(stun::attr::UnknownAttributes);
  REQUIRE(ua);
  auto val = m.value(*ua);
  REQUIRE(val.size() >= 2);
  CHECK(((val[0] << 8) | val[1]) == 0x0031);
}

TEST_CASE("Malformed datagrams are dropped silently and counted, the server keeps answering") {
  Harness h;
  StunClient c = h.client();
  const std::vector<std::vector<uint8_t>> junk = {
      {},
      {0x00, 0x01},
      std::vector<uint8_t>(20, 0xFF),
      {0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
      {0x40, 0x00, 0x00, 0x10, 1, 2},  // ChannelData claiming more than it has
  };
  for (const auto& j : junk) c.send(j);
  CHECK_FALSE(c.receive(200));
  CHECK(h.server().counters().dropped(turn::DropReason::Malformed) >= 4);
  auto r = c.request(Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
}

TEST_CASE("Relay-to-relay between two allocations works without allowing loopback") {
  Harness h;  // default deny: 127/8 is denied for ordinary peers
  StunClient a = h.authedClient("a");
  StunClient b = h.authedClient("b");
  auto ra = a.allocate();
  auto rb = b.allocate();
  REQUIRE(ra->code == 0);
  REQUIRE(rb->code == 0);
  const SocketAddress relayA = relayedOf(*ra), relayB = relayedOf(*rb);
  REQUIRE(a.createPermission(relayB)->code == 0);
  REQUIRE(b.createPermission(relayA)->code == 0);
  a.sendIndication(relayB, bytesOf("over two relays"));
  auto got = b.receive(1000);
  REQUIRE(got);
  auto ind = stun::decode(*got);
  REQUIRE(ind);
  CHECK(ind->xorAddress(*ind->find(stun::attr::XorPeerAddress)) == relayA);
  // A closed relay port is an ordinary loopback address again: denied.
  const SocketAddress gone = relayB;
  REQUIRE(b.refresh(0)->code == 0);
  CHECK(a.createPermission(gone)->code == 403);
}

TEST_CASE("Worker::post runs tasks from another thread on the loop thread") {
  evthread_use_pthreads();
  Harness h;
  std::atomic<int> ran{0};
  std::thread::id loopThread;
  std::thread poster([&] {
    for (int i = 0; i < 10; ++i)
      h.worker->post([&] {
        loopThread = std::this_thread::get_id();
        ++ran;
      });
  });
  poster.join();
  for (int i = 0; i < 100 && ran < 10; ++i) h.pump();
  CHECK(ran == 10);
  CHECK(loopThread == std::this_thread::get_id());
}
