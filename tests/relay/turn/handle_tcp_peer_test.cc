// A peer connecting to a TCP allocation's relayed address (RFC 6062 §5.3),
// straight to handleTcpPeer and through the pipeline: the new connection
// and its ConnectionAttempt indication, and every refusal as a drop.
#include "tests/relay/turn/tcp_bench.h"

using namespace tw;
using namespace tw::testing;

namespace {
turn::Outcome peerConnects(HandlerBench& h, turn::Allocation& a, const SocketAddress& peer) {
  auto d = h.tcpPeerDeps();
  return h.keep(turn::handleTcpPeer({a, peer, h.clock.now(), *h.policy}, d));
}
void permit(HandlerBench& h, turn::Allocation& a, const SocketAddress& peer) {
  REQUIRE(a.installPermission(peer.ip, h.clock.now() + std::chrono::minutes(5), h.clock.now(), 10));
}
}  // namespace

TEST_CASE("handleTcpPeer: a permitted peer gets a Pending connection that waits for its bind") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate(h.tuple("203.0.113.5:1", Transport::Tcp), 6);
  permit(h, a, kPeer);
  const turn::Outcome o = peerConnects(h, a, kPeer);
  REQUIRE(answer(o) == "success");
  REQUIRE(o.attrs.connectionId);
  const turn::TcpConnection* c = h.tcp.find(*o.attrs.connectionId);
  REQUIRE(c);
  CHECK(c->inbound);
  CHECK(c->peer == kPeer);
  CHECK(c->state == turn::TcpState::Pending);
  CHECK(c->deadline == h.clock.now() + turn::kTcpBindTimeout);
  CHECK(a.tcpConnections == std::vector<uint32_t>{c->id});
  CHECK(h.tcp.directory().takeForBind(c->id, "alice") == 0u);
  CHECK(h.reported.empty());
}

TEST_CASE("handleTcpPeer: denied, unpermitted or over the cap is a drop, a denial is reported") {
  HandlerBench h(kAllowPeers + "quotas: {tcp_connections_per_allocation: 1}\n");
  turn::Allocation& a = h.allocate(h.tuple("203.0.113.5:1", Transport::Tcp), 6);
  permit(h, a, kDenied);
  CHECK(answer(peerConnects(h, a, kDenied)) == "drop peer_denied");  // the rules beat a permission
  REQUIRE(h.reported.size() == 1);
  CHECK_THAT(h.reported[0], Catch::StartsWith("peer_denied 10.0.0.1:80 "));
  CHECK(answer(peerConnects(h, a, kPeer)) == "drop no_permission");
  permit(h, a, kPeer);
  permit(h, a, kPeer2);
  CHECK(answer(peerConnects(h, a, kPeer)) == "success");
  CHECK(answer(peerConnects(h, a, kPeer2)) == "drop rate_limited");  // tcp_connections_per_allocation
  CHECK(h.tcp.size() == 1);
  CHECK(h.reported.size() == 1);
}

TEST_CASE("handle_tcp_peer: the client hears a ConnectionAttempt, refusals are dropped and reported") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  const uint64_t id = p.server->allocations().find(c.tuple())->id;
  p.events.log.clear();
  p.io.toClient.clear();
  CHECK_FALSE(p.server->onTcpPeerAccepted(id, kPeer));  // no permission yet
  CHECK(p.events.log == std::vector<std::string>{"drop no_permission"});
  CHECK_FALSE(p.server->onTcpPeerAccepted(id, kDenied));
  REQUIRE(p.events.log.size() == 3);
  CHECK_THAT(p.events.log[1], Catch::StartsWith("peer_denied 10.0.0.1:80 "));
  CHECK(p.events.log[2] == "drop peer_denied");
  CHECK(p.io.toClient.empty());
  REQUIRE(c.createPermission(kPeer)->code == 0);
  p.io.toClient.clear();
  auto cid = p.server->onTcpPeerAccepted(id, kPeer);
  REQUIRE(cid);
  auto sent = p.io.takeToClient();
  REQUIRE(sent);
  CHECK(sent->tuple == c.tuple());
  const stun::Message m = stun::decode(sent->bytes).value();
  CHECK(m.method() == stun::Method::ConnectionAttempt);
  CHECK(m.messageClass() == stun::MessageClass::Indication);
  CHECK(m.connectionId() == *cid);
  CHECK(m.xorAddress(*m.find(stun::attr::XorPeerAddress)) == kPeer);
  CHECK_FALSE(p.server->onTcpPeerAccepted(id + 1000, kPeer));  // no such allocation
}
