// Connect (RFC 6062 §5.2) through the socket-less pipeline and straight to
// its handler: the deferred answer, every error code, and the events.
#include <algorithm>

#include "tests/relay/turn/tcp_bench.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

TEST_CASE("handle_connect: answered when connect() completes, then ConnectionBind hands over") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK_FALSE(connect(c, kPeer));  // deferred: nothing yet
  REQUIRE(p.io.connects.size() == 1);
  CHECK(p.io.connects[0].peer == kPeer);
  const uint32_t id = p.io.connects[0].id;
  p.io.toClient.clear();
  p.server->onTcpPeerConnected(id, true);
  auto ok = laterAnswer(p);
  REQUIRE(ok);
  CHECK(ok->code == 0);
  CHECK(ok->msg().connectionId() == id);
  CHECK(ok->msg().hasMessageIntegrity());
  CHECK(ok->msg().hasFingerprint());  // the Connect had one

  // A new data connection with the owner's credentials binds it.
  PipelineClient data(p, p.tuple("203.0.113.5:2", Transport::Tcp));
  data.setCredentials(c.username(), p.credential("alice").second);
  auto bind = data.request(Method::ConnectionBind, [&](B& b) { b.addU32(stun::attr::ConnectionId, id); });
  REQUIRE(bind);
  CHECK(bind->code == 0);
  CHECK(p.io.bound.count(id) == 1);
}

TEST_CASE("handle_connect: 447 when connect() fails at once, later, or times out") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  p.io.refuseConnects = true;
  CHECK(connect(c, kPeer)->code == 447);
  p.io.refuseConnects = false;
  CHECK_FALSE(connect(c, kPeer));
  p.io.toClient.clear();
  p.server->onTcpPeerConnected(p.io.connects.back().id, false);
  CHECK(laterAnswer(p)->code == 447);
  CHECK_FALSE(connect(c, kPeer2));
  p.io.toClient.clear();
  p.advance(std::chrono::seconds(31));  // kTcpBindTimeout
  CHECK(laterAnswer(p)->code == 447);
}

TEST_CASE("handle_connect: 400 on a UDP allocation or without a peer, 443, 403, 446") {
  Pipeline p(kAllowPeers);
  auto udp = allocated(p, "udp", "203.0.113.4:1");
  CHECK(connect(udp, kPeer)->code == 400);  // not_a_tcp_allocation
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK(c.request(Method::Connect)->code == 400);  // missing_peer_address
  CHECK(connect(c, kPeerV6)->code == 443);
  CHECK(connect(c, kDenied)->code == 403);
  CHECK(p.io.connects.empty());  // no SYN to a denied peer
  CHECK_FALSE(connect(c, kPeer));
  CHECK(connect(c, kPeer)->code == 446);  // connection_exists
}

TEST_CASE("handle_connect: 437 without an allocation, 441 for another user on the owner's tuple") {
  Pipeline p(kAllowPeers);
  auto stranger = PipelineClient::authed(p, "alice", "203.0.113.5:1", Transport::Tcp);
  CHECK(connect(stranger, kPeer)->code == 437);  // a TCP control connection with no allocation
  auto c = allocated(p, "alice", "203.0.113.5:2", true);
  PipelineClient mallory(p, c.tuple());
  auto [name, pass] = p.credential("mallory");
  mallory.setCredentials(name, pass);
  CHECK(connect(mallory, kPeer)->code == 441);
  CHECK(p.io.connects.empty());
}

TEST_CASE("handle_connect: the pipeline reports the attempt and the denial, then the request") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  p.events.log.clear();
  CHECK(connect(c, kDenied)->code == 403);
  REQUIRE(p.events.log.size() == 3);
  CHECK_THAT(p.events.log[0], Catch::StartsWith("peer_denied 10.0.0.1:80 "));
  CHECK(p.events.log[1] == "connect_attempt 10.0.0.1:80");
  CHECK(p.events.log[2] == "request Connect 403 peer_denied");
  p.events.log.clear();
  CHECK_FALSE(connect(c, kPeer));  // deferred: the attempt now, the request when answered
  CHECK(p.events.log == std::vector<std::string>{"connect_attempt " + kPeer.toString()});
  p.server->onTcpPeerConnected(p.io.connects.back().id, true);
  CHECK(p.events.only("request") == std::vector<std::string>{"request Connect 0 "});
}

TEST_CASE("handle_connect: 486 over the connection cap or the connect rate") {
  Pipeline p(
      "peers:\n  allowed: [93.184.216.0/24]\n"
      "quotas: {tcp_connections_per_allocation: 1, connects_per_minute: 2}\n");
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK_FALSE(connect(c, *SocketAddress::parse("93.184.216.1:80")));
  CHECK(connect(c, *SocketAddress::parse("93.184.216.2:80"))->code == 486);  // cap
  p.server->onTcpPeerClosed(p.io.connects.back().id);
  CHECK_FALSE(connect(c, *SocketAddress::parse("93.184.216.3:80")));  // 2nd of 2 per minute
  p.server->onTcpPeerClosed(p.io.connects.back().id);
  CHECK(connect(c, *SocketAddress::parse("93.184.216.4:80"))->code == 486);  // rate
}

// handleConnect and handleConnectDone called directly.

TEST_CASE("handleConnect: deferred, with a Connecting record and one connect() to the edge") {
  HandlerBench h(kAllowPeers);
  const auto ctl = h.tuple("203.0.113.5:1", Transport::Tcp);
  turn::Allocation& a = h.allocate(ctl, 6);
  CHECK(connectTo(h, ctl, kPeer) == "deferred");
  REQUIRE(h.io.connects.size() == 1);
  CHECK(h.io.connects[0].relay == a.relay);
  CHECK(h.io.connects[0].peer == kPeer);
  const turn::TcpConnection* c = h.tcp.find(h.io.connects[0].id);
  REQUIRE(c);
  CHECK(c->state == turn::TcpState::Connecting);
  CHECK(c->deadline == h.clock.now() + turn::kTcpBindTimeout);
  CHECK(c->connectFingerprint);
  CHECK(a.tcpConnections == std::vector<uint32_t>{c->id});
  CHECK(h.reported == std::vector<std::string>{"connect_attempt " + kPeer.toString()});
}

TEST_CASE("handleConnect: 400, 443, 403, 446 and 447, no SYN to a denied peer") {
  HandlerBench h(kAllowPeers);
  h.allocate();
  CHECK(connectTo(h, h.tuple(), kPeer) == "400 not_a_tcp_allocation");
  const auto ctl = h.tuple("203.0.113.5:1", Transport::Tcp);
  turn::Allocation& a = h.allocate(ctl, 6);
  CHECK(connectTo(h, ctl, std::nullopt) == "400 missing_peer_address");
  CHECK(connectTo(h, ctl, kPeerV6) == "443 peer_family_mismatch");
  CHECK(connectTo(h, ctl, kDenied) == "403 peer_denied");
  REQUIRE(h.reported.size() == 3);  // the 443's attempt, then the denial and its attempt
  CHECK_THAT(h.reported[1], Catch::StartsWith("peer_denied 10.0.0.1:80 "));
  CHECK(h.reported[2] == "connect_attempt 10.0.0.1:80");
  CHECK(h.io.connects.empty());
  h.io.refuseConnects = true;
  CHECK(connectTo(h, ctl, kPeer) == "447 connect_failed");
  CHECK(a.tcpConnections.empty());  // the failed attempt leaves nothing behind
  CHECK(h.tcp.size() == 0);
  h.io.refuseConnects = false;
  REQUIRE(connectTo(h, ctl, kPeer) == "deferred");
  CHECK(connectTo(h, ctl, kPeer) == "446 connection_exists");
  // Every attempt, refused or not, was reported to the relay_scan detector.
  CHECK(std::count_if(h.reported.begin(), h.reported.end(),
                      [](const std::string& l) { return l.rfind("connect_attempt ", 0) == 0; }) == 5);
}

TEST_CASE("handleConnect: 486 over the per-allocation cap or the connect rate, counted") {
  HandlerBench h(
      "peers:\n  allowed: [93.184.216.0/24]\n"
      "quotas: {tcp_connections_per_allocation: 1, connects_per_minute: 2}\n");
  const auto ctl = h.tuple("203.0.113.5:1", Transport::Tcp);
  turn::Allocation& a = h.allocate(ctl, 6);
  CHECK(connectTo(h, ctl, *SocketAddress::parse("93.184.216.1:80")) == "deferred");
  CHECK(connectTo(h, ctl, *SocketAddress::parse("93.184.216.2:80")) == "486 too_many_tcp_connections");
  h.tcp.erase(a.tcpConnections[0]);
  a.tcpConnections.clear();
  CHECK(connectTo(h, ctl, *SocketAddress::parse("93.184.216.3:80")) == "deferred");  // 2nd of 2
  h.tcp.erase(a.tcpConnections[0]);
  a.tcpConnections.clear();
  CHECK(connectTo(h, ctl, *SocketAddress::parse("93.184.216.4:80")) == "486 connect_rate_limited");
  CHECK(h.counters.rateLimited[size_t(turn::RateLimitKind::Connect)] == 1);
  h.clock.advance(std::chrono::seconds(30));  // one token back at 2 per minute
  CHECK(connectTo(h, ctl, *SocketAddress::parse("93.184.216.4:80")) == "deferred");
}

TEST_CASE("handleConnectDone: success names the connection and opens it to a bind, 447 otherwise") {
  HandlerBench h(kAllowPeers);
  const uint32_t id = connecting(h, h.tuple("203.0.113.5:1", Transport::Tcp));
  turn::TcpConnection& c = *h.tcp.find(id);
  h.clock.advance(std::chrono::seconds(10));
  const turn::Outcome failed = turn::handleConnectDone(c, false, h.clock.now(), h.tcp);
  CHECK(answer(failed) == "447 connect_failed");
  CHECK(c.state == turn::TcpState::Connecting);  // the pipeline forgets it
  CHECK(failed.events.empty());
  const turn::Outcome ok = turn::handleConnectDone(c, true, h.clock.now(), h.tcp);
  CHECK(answer(ok) == "success");
  CHECK(ok.attrs.connectionId == id);
  CHECK(ok.events.empty());
  CHECK(c.state == turn::TcpState::Pending);
  CHECK(c.deadline == h.clock.now() + turn::kTcpBindTimeout);  // 30 s from now, not from the Connect
  CHECK(h.tcp.directory().takeForBind(id, "alice") == 0u);     // open to its owner's bind, here
}
