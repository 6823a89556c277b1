// Send indications (RFC 8656 §11.2) through the socket-less pipeline: never
// answered, every refusal a counted drop.
#include "relay/stun/channel_data.h"
#include "tests/relay/turn/handler_bench.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using tw::turn::DropReason;
using B = tw::stun::MessageBuilder;

namespace {
std::vector<uint8_t> sendIndication(const std::optional<SocketAddress>& peer, size_t bytes) {
  std::vector<uint8_t> out;
  B b(out, Method::Send, stun::MessageClass::Indication, stun::TransactionId{7});
  if (peer) b.addXorAddress(stun::attr::XorPeerAddress, *peer);
  if (bytes) b.addBytes(stun::attr::Data, std::vector<uint8_t>(bytes, 0x42));
  return out;
}
uint64_t drops(Pipeline& p, DropReason r) { return p.server->counters().dropped(r); }
}  // namespace

TEST_CASE("handle_send: relays to a permitted peer, answers nothing") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  REQUIRE(c.createPermission(kPeer)->code == 0);
  CHECK(p.feed(c.tuple(), sendIndication(kPeer, 100)).empty());
  REQUIRE(p.io.toPeer.size() == 1);
  CHECK(p.io.toPeer[0].bytes.size() == 100);
}

TEST_CASE("handle_send: every refusal is a counted drop") {
  // Peers allowed on port 5000 only: permissions are per IP, rules per port.
  Pipeline p(
      "peers:\n  allowed: [{range: 203.0.113.100/31, ports: 5000}]\n"
      "quotas: {max_bps: 1000}\n");
  PipelineClient none(p, p.tuple("203.0.113.9:9"));
  p.feed(none.tuple(), sendIndication(kPeer, 10));
  CHECK(drops(p, DropReason::NoAllocation) == 1);
  auto c = allocated(p);
  p.feed(c.tuple(), sendIndication(std::nullopt, 10));
  p.feed(c.tuple(), sendIndication(kPeer, 0));
  p.feed(c.tuple(), sendIndication(kPeerV6, 10));
  CHECK(drops(p, DropReason::Malformed) == 3);
  p.feed(c.tuple(), sendIndication(kPeer, 10));
  CHECK(drops(p, DropReason::NoPermission) == 1);
  REQUIRE(c.createPermission(kPeer)->code == 0);
  p.feed(c.tuple(), sendIndication(SocketAddress{kPeer.ip, 6000}, 10));  // checked per packet
  CHECK(drops(p, DropReason::PeerDenied) == 1);
  p.feed(c.tuple(), sendIndication(kPeer, 900));
  p.feed(c.tuple(), sendIndication(kPeer, 900));  // over the one-second budget
  CHECK(drops(p, DropReason::OverBandwidth) == 1);
  p.clock.advance(std::chrono::seconds(2));
  p.io.refuseSends = true;
  p.feed(c.tuple(), sendIndication(kPeer, 10));
  CHECK(drops(p, DropReason::SendFailed) == 1);
  p.io.refuseSends = false;
  CHECK(p.io.toPeer.size() == 1);  // only the first 900 bytes went out
  auto t = allocated(p, "tcp", "203.0.113.6:1", true);
  p.feed(t.tuple(), sendIndication(kPeer, 10));
  CHECK(drops(p, DropReason::WrongTransport) == 1);
}

// handleSend called directly: each drop reason, and what a relayed Send
// leaves behind (bytes to the peer, counters, the relay_scan sample).
namespace {
using tw::testing::answer;
using tw::testing::HandlerBench;
HandlerBench::AddAttrs sendAttrs(const std::optional<SocketAddress>& peer, size_t bytes) {
  return [=](B& b) {
    if (peer) b.addXorAddress(stun::attr::XorPeerAddress, *peer);
    if (bytes) b.addBytes(stun::attr::Data, std::vector<uint8_t>(bytes, 0x42));
  };
}
std::string sendVia(HandlerBench& h, const std::optional<SocketAddress>& peer, size_t bytes,
                    const FiveTuple& from) {
  auto ind = h.request(Method::Send, sendAttrs(peer, bytes), from, stun::MessageClass::Indication);
  auto d = h.sendDeps();
  return answer(h.keep(turn::handleSend(ind, d)));
}
std::string sendVia(HandlerBench& h, const std::optional<SocketAddress>& peer, size_t bytes) {
  return sendVia(h, peer, bytes, h.tuple());
}
}  // namespace

TEST_CASE("handleSend: a permitted peer gets the DATA through the family's relay socket") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate();
  REQUIRE(a.installPermission(kPeer.ip, h.clock.now() + std::chrono::minutes(5), h.clock.now(), 10));
  CHECK(sendVia(h, kPeer, 100) == "success");
  REQUIRE(h.io.toPeer.size() == 1);
  CHECK(h.io.toPeer[0].relay == a.relay);
  CHECK(h.io.toPeer[0].peer == kPeer);
  CHECK(h.io.toPeer[0].bytes == std::vector<uint8_t>(100, 0x42));
  CHECK(a.bytesToPeer == 100);
  CHECK(h.counters.relayedBytes[size_t(turn::Direction::ClientToPeer)][size_t(Transport::Udp)] == 100);
  CHECK(h.io.toClient.empty());  // never answered
}

TEST_CASE("handleSend: every refusal is a drop with its reason, nothing sent") {
  HandlerBench h(
      "peers:\n  allowed: [{range: 203.0.113.100/31, ports: 5000}]\n"
      "quotas: {max_bps: 1000}\n");
  CHECK(sendVia(h, kPeer, 10) == "drop no_allocation");
  turn::Allocation& a = h.allocate();
  CHECK(sendVia(h, std::nullopt, 10) == "drop malformed");
  CHECK(sendVia(h, kPeer, 0) == "drop malformed");
  CHECK(sendVia(h, kPeerV6, 10) == "drop malformed");  // a family the allocation has no relay for
  CHECK(sendVia(h, kPeer, 10) == "drop no_permission");
  REQUIRE(a.installPermission(kPeer.ip, h.clock.now() + std::chrono::minutes(5), h.clock.now(), 10));
  CHECK(h.reported.empty());  // nothing to report before the peer is known and permitted
  CHECK(sendVia(h, SocketAddress{kPeer.ip, 6000}, 10) == "drop peer_denied");  // rules per packet
  REQUIRE(h.reported.size() == 1);
  CHECK_THAT(h.reported[0], Catch::StartsWith("peer_denied 203.0.113.100:6000 "));
  h.reported.clear();
  CHECK(sendVia(h, kPeer, 900) == "success");
  CHECK(sendVia(h, kPeer, 900) == "drop over_bandwidth");  // one second's budget of max_bps
  h.clock.advance(std::chrono::seconds(2));
  h.io.refuseSends = true;
  CHECK(sendVia(h, kPeer, 10) == "drop send_failed");
  h.io.refuseSends = false;
  CHECK(h.io.toPeer.size() == 1);
  CHECK(a.bytesToPeer == 900);
  // Every Send past the rules is a relay_scan target, sent or not.
  CHECK(h.reported == std::vector<std::string>(3, "send_target " + kPeer.toString()));
  const auto tcp = h.tuple("203.0.113.6:1", Transport::Tcp);
  h.allocate(tcp, 6);
  CHECK(sendVia(h, kPeer, 10, tcp) == "drop wrong_transport");
}

TEST_CASE("handle_send: relay-to-relay through the external address goes to the bound one") {
  // Issue 21: behind 1:1 NAT whose edge does not hairpin, B's relayed
  // address as advertised (203.0.113.10:P) must reach B through 192.0.2.1:P.
  Pipeline p;
  const IpAddress ext = *IpAddress::parse("203.0.113.10");
  p.useExternal(ext);
  auto a = allocated(p, "alice", "203.0.113.5:40000");
  auto b = allocated(p, "bob", "203.0.113.6:40000");
  turn::Allocation* aa = p.server->allocations().find(a.tuple());
  turn::Allocation* ba = p.server->allocations().find(b.tuple());
  REQUIRE(aa);
  REQUIRE(ba);
  const SocketAddress bShown{ext, ba->relayed.port};
  CHECK(ba->advertised == bShown);
  REQUIRE(a.createPermission(bShown)->code == 0);  // a live relay port: allowed
  p.feed(a.tuple(), sendIndication(bShown, 10));
  REQUIRE(p.io.toPeer.size() == 1);
  CHECK(p.io.toPeer[0].peer == ba->relayed);  // 192.0.2.1:P, delivered locally
  // ChannelData too.
  REQUIRE(a.channelBind(0x4000, bShown)->code == 0);
  std::vector<uint8_t> cd;
  stun::encodeChannelData(cd, 0x4000, std::vector<uint8_t>(8, 1), false);
  p.feed(a.tuple(), cd);
  REQUIRE(p.io.toPeer.size() == 2);
  CHECK(p.io.toPeer[1].peer == ba->relayed);
  // The reverse arrives from B's bound address and matches A's permission
  // and channel for the advertised one.
  p.io.toClient.clear();
  const std::vector<uint8_t> back(6, 2);
  p.server->onPeerDatagram(aa->id, ba->relayed, back);
  REQUIRE(p.io.toClient.size() == 1);
  CHECK(p.io.toClient[0].tuple == a.tuple());
  auto got = stun::decodeChannelData(p.io.toClient[0].bytes);
  REQUIRE(got);
  CHECK(got->channel == 0x4000);
  CHECK(drops(p, DropReason::NoPermission) == 0);
}

TEST_CASE("handle_send: a relay port on the external address that is not live stays denied") {
  Pipeline p;
  const IpAddress ext = *IpAddress::parse("203.0.113.10");
  p.useExternal(ext);
  auto a = allocated(p);
  turn::Allocation* aa = p.server->allocations().find(a.tuple());
  REQUIRE(aa);
  const uint16_t idle =
      aa->relayed.port == Pipeline::kFirstPort ? Pipeline::kFirstPort + 1 : Pipeline::kFirstPort;
  CHECK(a.createPermission(SocketAddress{ext, idle})->code == 403);
  CHECK(a.createPermission(aa->advertised)->code == 403);  // its own: a loop
  // A datagram from an unpermitted bound relay address is still dropped.
  p.server->onPeerDatagram(aa->id, SocketAddress{aa->relayed.ip, idle}, std::vector<uint8_t>(4, 0));
  CHECK(drops(p, DropReason::NoPermission) == 1);
}
