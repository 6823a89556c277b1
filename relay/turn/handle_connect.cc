// TCP relay requests (RFC 6062): Connect and ConnectionBind. Sockets live in
// relay/io; these handlers decide, and every peer is checked against the
// rules before any SYN. The edge's later events (connect() done, peers
// accepted, closed) are TurnServer's, in turn_server_tcp.cc.
#include "relay/turn/handlers.h"

namespace tw::turn {

namespace {
bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }

Outcome checkConnectAllowed(const RequestContext& req, ConnectDeps& d, const SocketAddress& peer) {
  Allocation& a = *req.alloc;
  if (!a.servesFamily(peer.ip.family())) return Outcome::error(443, "peer_family_mismatch");
  // Before any socket exists: a denied peer never sees a SYN (threats.md).
  if (auto rule = d.peers.deny(req, a, peer)) return Outcome::error(403, "peer_denied", *rule);
  if (d.tcp.findPeer(a.tcpConnections, peer)) return Outcome::error(446, "connection_exists");
  const auto& q = req.policy.quotas;
  if (q.tcpConnectionsPerAllocation && a.tcpConnections.size() >= q.tcpConnectionsPerAllocation)
    return Outcome::error(486, "too_many_tcp_connections");
  const double perMinute = static_cast<double>(q.connectsPerMinute);
  if (!a.connectBudget.take(1, perMinute / 60, perMinute, req.now)) {
    d.counters.limited(RateLimitKind::Connect);
    return Outcome::error(486, "connect_rate_limited");
  }
  return Outcome::success();
}
}  // namespace

// RFC 6062 §5.2. The answer waits for connect() (TurnServer::onTcpPeerConnected).
Outcome handleConnect(const RequestContext& req, ConnectDeps& d) {
  if (!req.alloc->tcp) return Outcome::error(400, "not_a_tcp_allocation");
  const stun::RawAttribute* attr = req.msg.find(stun::attr::XorPeerAddress);
  auto peer = attr ? req.msg.xorAddress(*attr) : std::nullopt;
  if (!peer) return Outcome::error(400, "missing_peer_address");
  // Every attempt, allowed or not, feeds the relay_scan detector (threats.md S7).
  d.peers.events.onConnectAttempt(*req.alloc, *peer);
  if (Outcome o = checkConnectAllowed(req, d, *peer); o.kind != Outcome::Kind::Success) return o;
  Allocation& a = *req.alloc;
  TcpConnection c;
  c.id = d.tcp.newId(d.rng, a.user);
  c.allocationId = a.id;
  c.peer = *peer;
  c.deadline = req.now + kTcpBindTimeout;
  c.connectTxn = req.msg.transactionId();
  c.connectFingerprint = req.msg.hasFingerprint();
  d.tcp.insert(c);
  a.tcpConnections.push_back(c.id);
  if (!d.io.connectTcpPeer(a.relay, *peer, c.id)) {
    std::erase(a.tcpConnections, c.id);
    d.tcp.erase(c.id);
    return Outcome::error(447, "connect_failed");
  }
  return Outcome::deferred();
}

// RFC 6062 §5.4: on a new TCP/TLS connection, with the allocation owner's
// credentials. An unknown id and another user's id get the same 400, so the
// answer tells a guesser nothing.
Outcome handleConnectionBind(const RequestContext& req, ConnectionBindDeps& d) {
  if (!isStream(req.tuple.transport)) return Outcome::error(400, "connection_bind_over_udp");
  if (req.alloc) return Outcome::error(400, "control_connection");
  auto id = req.msg.connectionId();
  if (!id) return Outcome::error(400, "missing_connection_id");
  // The shared CONNECTION-ID map gates the bind (Pending, same user, once)
  // and names the worker owning the peer connection.
  auto owner = d.tcp.directory().takeForBind(*id, req.auth.user);
  if (!owner) return Outcome::error(400, "unknown_connection_id");
  Outcome ok = Outcome::success();
  // The answer leaves on this connection before it moves or becomes a raw
  // pipe: the pipeline responds first, then hands the connection over.
  if (*owner != d.worker) {
    ok.handOver = TcpHandOver{*id, *owner};  // the owner joins it, or closes it
    return ok;
  }
  TcpConnection* c = d.tcp.find(*id);
  Allocation* a = c ? d.table.findById(c->allocationId) : nullptr;
  if (!a || c->state != TcpState::Pending) return Outcome::error(400, "unknown_connection_id");
  c->state = TcpState::Bound;
  ok.handOver = TcpHandOver{c->id, std::nullopt};
  return ok;
}

}  // namespace tw::turn
