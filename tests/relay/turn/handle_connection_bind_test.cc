// ConnectionBind (RFC 6062 §5.4) through the socket-less pipeline and
// straight to its handler: every 400, one answer for every unknown id, the
// hand-over here or to the owning worker, and a moved bind at its owner.
#include "tests/relay/turn/tcp_bench.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

namespace {
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
}  // namespace

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

// handleConnectionBind and handleMovedBind called directly.

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

TEST_CASE("handleConnectionBind: reports nothing itself, the pipeline reports each request") {
  HandlerBench h(kAllowPeers);
  const uint32_t id = connecting(h, h.tuple("203.0.113.5:1", Transport::Tcp));
  connected(h, id);
  CHECK(bindId(h, h.tuple("203.0.113.5:2", Transport::Tcp), id + 1).events.empty());
  CHECK(bindId(h, h.tuple("203.0.113.5:3", Transport::Tcp), id).events.empty());

  Pipeline p(kAllowPeers);
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK_FALSE(connect(c, kPeer));
  p.server->onTcpPeerConnected(p.io.connects[0].id, true);
  p.events.log.clear();
  PipelineClient data(p, p.tuple("203.0.113.5:2", Transport::Tcp));
  data.setCredentials(c.username(), p.credential("alice").second);
  auto bind = [&](uint32_t cid) {
    return data.request(Method::ConnectionBind, [&](B& b) { b.addU32(stun::attr::ConnectionId, cid); });
  };
  CHECK(bind(p.io.connects[0].id + 1)->code == 400);
  CHECK(bind(p.io.connects[0].id)->code == 0);
  CHECK(p.events.only("request ConnectionBind") ==
        std::vector<std::string>{"request ConnectionBind 401 challenge",
                                 "request ConnectionBind 400 unknown_connection_id",
                                 "request ConnectionBind 0 "});
}

TEST_CASE("handleMovedBind: the owner takes a moved bind once, while its peer connection waits") {
  HandlerBench h(kAllowPeers);
  const auto ctl = h.tuple("203.0.113.5:1", Transport::Tcp);
  const uint32_t id = connecting(h, ctl);
  auto d = h.bindDeps();
  CHECK_FALSE(turn::handleMovedBind(id, d));  // still Connecting
  connected(h, id);
  CHECK_FALSE(turn::handleMovedBind(id + 1, d));  // unknown here
  CHECK(turn::handleMovedBind(id, d));
  CHECK(h.tcp.find(id)->state == turn::TcpState::Bound);
  CHECK_FALSE(turn::handleMovedBind(id, d));  // bound once only
  // The allocation ended while the connection was on its way: refused.
  const uint32_t late = [&] {
    REQUIRE(connectTo(h, ctl, kPeer2) == "deferred");
    return h.io.connects.back().id;
  }();
  connected(h, late);
  h.table.remove(h.table.find(ctl)->id);
  CHECK_FALSE(turn::handleMovedBind(late, d));
}

TEST_CASE("handle_connection_bind: a moved bind is joined at its owner with max_bps, or refused") {
  Pipeline p(kAllowPeers + "quotas: {max_bps: 12345}\n");
  auto c = allocated(p, "alice", "203.0.113.5:1", true);
  CHECK_FALSE(connect(c, kPeer));
  const uint32_t id = p.io.connects[0].id;
  CHECK_FALSE(p.server->onTcpBindMoved(id));  // connect() not done yet
  p.server->onTcpPeerConnected(id, true);
  CHECK(p.server->onTcpBindMoved(id) == 12345u);
  CHECK_FALSE(p.server->onTcpBindMoved(id));
}
