// Connect and ConnectionBind (RFC 6062) through the socket-less pipeline:
// the deferred Connect answer, every error code, and the hand-over.
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

namespace {
std::optional<PipelineReply> connect(PipelineClient& c, const SocketAddress& peer) {
  return c.request(Method::Connect,
                   [&](B& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
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
  auto bind = data.request(Method::ConnectionBind,
                           [&](B& b) { b.addU32(stun::attr::ConnectionId, id); });
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
  Pipeline p("peers:\n  allowed: [93.184.216.0/24]\n"
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
  CHECK(bindFrom(c.tuple(), "alice", id) == 400);  // on the control connection
  CHECK(bindFrom(p.tuple("203.0.113.5:3", Transport::Tcp), "alice", std::nullopt) == 400);
  CHECK(bindFrom(p.tuple("203.0.113.5:4", Transport::Tcp), "alice", id + 1) == 400);
  CHECK(bindFrom(p.tuple("203.0.113.5:5", Transport::Tcp), "mallory", id) == 400);
  CHECK(p.io.bound.empty());
  p.io.refuseBinds = true;  // the edge cannot join them: both ends closed
  CHECK(bindFrom(p.tuple("203.0.113.5:6", Transport::Tcp), "alice", id) == 0);
  CHECK(p.io.closedTcp.count(id) == 1);
  CHECK(p.server->tcpConnections().size() == 0);
}
