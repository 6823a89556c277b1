// Connect (RFC 6062 §5.2): the client asks the relay to open a TCP
// connection to a peer. Sockets live in relay/io; this handler decides, and
// every peer is checked against the rules before any SYN. The answer waits
// for connect(): handleConnectDone makes it.
#include "relay/turn/handlers.h"

namespace tw::turn {

namespace {
Outcome checkConnectAllowed(const RequestContext& req, ConnectDeps& d, const SocketAddress& peer) {
  Allocation& a = *req.alloc;
  if (!a.servesFamily(peer.ip.family())) return Outcome::error(443, "peer_family_mismatch");
  // Before any socket exists: a denied peer never sees a SYN (threats.md).
  if (auto rule = d.peers.deny(req, a, peer))
    return Outcome::error(403, "peer_denied", std::move(*rule)).with(Event::Kind::PeerDenied, peer);
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

/// A Connecting record for `peer` and one connect() to the edge.
Outcome connectPeer(const RequestContext& req, ConnectDeps& d, const SocketAddress& peer) {
  if (Outcome o = checkConnectAllowed(req, d, peer); !o.ok()) return o;
  Allocation& a = *req.alloc;
  TcpConnection c;
  c.id = d.tcp.newId(d.rng, a.user);
  c.allocationId = a.id;
  c.peer = peer;
  c.deadline = req.now + kTcpBindTimeout;
  c.connectTxn = req.msg.transactionId();
  c.connectFingerprint = req.msg.hasFingerprint();
  d.tcp.insert(c);
  a.tcpConnections.push_back(c.id);
  if (!d.io.connectTcpPeer(a.relay, peer, c.id)) {
    std::erase(a.tcpConnections, c.id);
    d.tcp.erase(c.id);
    return Outcome::error(447, "connect_failed");
  }
  return Outcome::deferred();
}
}  // namespace

Outcome handleConnect(const RequestContext& req, ConnectDeps& d) {
  if (!req.alloc->tcp) return Outcome::error(400, "not_a_tcp_allocation");
  const stun::RawAttribute* attr = req.msg.find(stun::attr::XorPeerAddress);
  auto peer = attr ? req.msg.xorAddress(*attr) : std::nullopt;
  if (!peer) return Outcome::error(400, "missing_peer_address");
  // Every attempt, allowed or not, feeds the relay_scan detector (threats.md S7).
  return connectPeer(req, d, *peer).with(Event::Kind::ConnectAttempt, *peer);
}

Outcome handleConnectDone(TcpConnection& c, bool ok, Instant now, TcpConnectionTable& tcp) {
  if (!ok) return Outcome::error(447, "connect_failed");
  // RFC 6062 §5.2: the client has 30 s to bind it on a new data connection.
  c.state = TcpState::Pending;
  c.deadline = now + kTcpBindTimeout;
  tcp.directory().markPending(c.id);
  ResponseAttrs attrs;
  attrs.connectionId = c.id;
  return Outcome::success(std::move(attrs));
}

}  // namespace tw::turn
