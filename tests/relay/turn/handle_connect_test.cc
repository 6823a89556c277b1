// Connect and ConnectionBind (RFC 6062) through the socket-less pipeline:
// the deferred Connect answer, every error code, and the hand-over.
#include "tests/relay/turn/handler_bench.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

namespace {
std::optional<PipelineReply> connect(PipelineClient& c, const SocketAddress& peer) {
  return c.request(Method::Connect, [&](B& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}
/// The answer the server sent later (a deferred Connect), decoded.
std::optional<PipelineReply> laterAnswer(Pipeline& p) {
  auto sent = p.io.takeToClient();
  if (!sent) return std::nullopt;
  PipelineReply r{sent->bytes, -1};
  auto ec = r.msg().errorCode();
  r.code = ec ? ec->code : 0;
  return r;
}
}  // namespace

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

TEST_CASE("handle_connection_bind: 400 for every wrong use, with one answer for unknown ids") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK_FALSE(connect(c, kPeer));
  const uint32_t id = p.io.connects[0].id;
  p.server->onTcpPeerConnected(id, true);
  auto bindFrom = [&](const FiveTuple& t, const std::string& user, std::optional<uint32_t> cid) {
    PipelineClient d(p, t);
    auto [name, pass] = p.credential(user);
    d.setCredentials(user == "alice" ? c.username() : name,
                     user == "alice" ? p.credential("alice").second : pass);
    auto r = d.request(Method::ConnectionBind, [&](B& b) {
      if (cid) b.addU32(stun::attr::ConnectionId, *cid);
    });
    REQUIRE(r);
    return r->code;
  };
  CHECK(bindFrom(p.tuple("203.0.113.5:2", Transport::Udp), "alice", id) == 400);  // over UDP
  CHECK(bindFrom(c.tuple(), "alice", id) == 400);                                 // on the control connection
  CHECK(bindFrom(p.tuple("203.0.113.5:3", Transport::Tcp), "alice", std::nullopt) == 400);
  CHECK(bindFrom(p.tuple("203.0.113.5:4", Transport::Tcp), "alice", id + 1) == 400);
  CHECK(bindFrom(p.tuple("203.0.113.5:5", Transport::Tcp), "mallory", id) == 400);
  CHECK(p.io.bound.empty());
  p.io.refuseBinds = true;  // the edge cannot join them: both ends closed
  CHECK(bindFrom(p.tuple("203.0.113.5:6", Transport::Tcp), "alice", id) == 0);
  CHECK(p.io.closedTcp.count(id) == 1);
  CHECK(p.server->tcpConnections().size() == 0);
}

// handleConnect and handleConnectionBind called directly.
namespace {
using tw::testing::answer;
using tw::testing::HandlerBench;
std::string connectTo(HandlerBench& h, const FiveTuple& from, std::optional<SocketAddress> peer) {
  auto req = h.request(
      Method::Connect,
      [&](B& b) {
        if (peer) b.addXorAddress(stun::attr::XorPeerAddress, *peer);
      },
      from);
  auto d = h.connectDeps();
  return answer(turn::handleConnect(req, d));
}
turn::Outcome bindId(HandlerBench& h, const FiveTuple& from, std::optional<uint32_t> id, uint32_t worker = 0,
                     const std::string& user = "alice") {
  auto req = h.request(
      Method::ConnectionBind,
      [&](B& b) {
        if (id) b.addU32(stun::attr::ConnectionId, *id);
      },
      from);
  req.auth.user = user;
  auto d = h.bindDeps(worker);
  return turn::handleConnectionBind(req, d);
}
/// A TCP allocation on `ctl` with one peer connection to kPeer, still Connecting.
uint32_t connecting(HandlerBench& h, const FiveTuple& ctl) {
  h.allocate(ctl, 6);
  REQUIRE(connectTo(h, ctl, kPeer) == "deferred");
  return h.io.connects.back().id;
}
/// connect() completed: a ConnectionBind may take `id` now.
void connected(HandlerBench& h, uint32_t id) {
  h.tcp.find(id)->state = turn::TcpState::Pending;
  h.tcp.directory().markPending(id);
}
}  // namespace

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
  CHECK(h.events.connectAttempts == std::vector<SocketAddress>{kPeer});
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
  CHECK(h.events.denied.size() == 1);
  CHECK(h.io.connects.empty());
  h.io.refuseConnects = true;
  CHECK(connectTo(h, ctl, kPeer) == "447 connect_failed");
  CHECK(a.tcpConnections.empty());  // the failed attempt leaves nothing behind
  CHECK(h.tcp.size() == 0);
  h.io.refuseConnects = false;
  REQUIRE(connectTo(h, ctl, kPeer) == "deferred");
  CHECK(connectTo(h, ctl, kPeer) == "446 connection_exists");
  // Every attempt, refused or not, was reported to the relay_scan detector.
  CHECK(h.events.connectAttempts.size() == 5);
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

TEST_CASE("handleConnectionBind: success hands the connection over, here or to its owner") {
  HandlerBench h(kAllowPeers);
  const uint32_t id = connecting(h, h.tuple("203.0.113.5:1", Transport::Tcp));
  connected(h, id);
  const turn::Outcome o = bindId(h, h.tuple("203.0.113.5:2", Transport::Tcp), id);
  CHECK(answer(o) == "success");
  REQUIRE(o.handOver);
  CHECK(o.handOver->id == id);
  CHECK_FALSE(o.handOver->owner);
  CHECK(h.tcp.find(id)->state == turn::TcpState::Bound);
  CHECK(h.io.bound.empty());  // joining is the pipeline's, after the answer left

  // An id another worker owns: the answer, then a move to worker 1.
  const uint32_t remote = h.tcp.directory().claim(h.rng, 1, "alice");
  h.tcp.directory().markPending(remote);
  const turn::Outcome moved = bindId(h, h.tuple("203.0.113.5:3", Transport::Tcp), remote);
  CHECK(answer(moved) == "success");
  REQUIRE(moved.handOver);
  CHECK(moved.handOver->id == remote);
  CHECK(moved.handOver->owner == 1u);
}

TEST_CASE("handleConnectionBind: 400 for every wrong use, one answer for every unknown id") {
  HandlerBench h(kAllowPeers);
  const auto ctl = h.tuple("203.0.113.5:1", Transport::Tcp);
  const uint32_t id = connecting(h, ctl);
  const auto data = [&](int port) { return h.tuple("203.0.113.5:" + std::to_string(port), Transport::Tcp); };
  CHECK(answer(bindId(h, data(2), id)) == "400 unknown_connection_id");  // still Connecting
  connected(h, id);
  CHECK(answer(bindId(h, h.tuple("203.0.113.5:2"), id)) == "400 connection_bind_over_udp");
  CHECK(answer(bindId(h, ctl, id)) == "400 control_connection");
  CHECK(answer(bindId(h, data(3), std::nullopt)) == "400 missing_connection_id");
  CHECK(answer(bindId(h, data(4), id + 1)) == "400 unknown_connection_id");
  CHECK(answer(bindId(h, data(5), id, 0, "mallory")) == "400 unknown_connection_id");
  REQUIRE(answer(bindId(h, data(6), id)) == "success");
  CHECK(answer(bindId(h, data(7), id)) == "400 unknown_connection_id");  // bound once only
  // Claimed here but its record is gone (the allocation ended): the same 400.
  const uint32_t orphan = h.tcp.directory().claim(h.rng, 0, "alice");
  h.tcp.directory().markPending(orphan);
  CHECK(answer(bindId(h, data(8), orphan)) == "400 unknown_connection_id");
}
