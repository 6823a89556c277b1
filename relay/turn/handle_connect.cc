// TCP relay (RFC 6062): Connect, ConnectionBind, inbound peer connections
// and the lifetime of CONNECTION-IDs. Sockets live in relay/io; this file
// decides, and every peer is checked against the rules before any SYN.
#include "relay/turn/turn_server.h"

namespace tw::turn {

using stun::MessageClass;
using stun::Method;

namespace {
bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }
}  // namespace

Outcome TurnServer::checkTcpAllocate(const Request& req) const {
  // RFC 6062 §5.1: a TCP allocation needs a TCP or TLS control connection,
  // and has no use for the UDP-only attributes.
  const stun::Message& m = req.msg;
  if (!isStream(req.tuple.transport)) return Outcome::error(400, "tcp_allocation_over_udp");
  if (m.find(stun::attr::EvenPort) || m.find(stun::attr::ReservationToken) || m.dontFragment())
    return Outcome::error(400, "udp_attribute_in_tcp_allocation");
  if (m.find(stun::attr::AdditionalAddressFamily))
    return Outcome::error(400, "dual_tcp_allocation");
  return Outcome::success();
}

Outcome TurnServer::checkConnectAllowed(const Request& req, const SocketAddress& peer) {
  Allocation& a = *req.alloc;
  if (!a.servesFamily(peer.ip.family())) return Outcome::error(443, "peer_family_mismatch");
  // Before any socket exists: a denied peer never sees a SYN (threats.md).
  if (auto rule = peerDenied(a, peer)) {
    deps_.events.onPeerDenied(peer, *rule, req.tuple, a.user);
    return Outcome::error(403, "peer_denied", *rule);
  }
  if (tcp_.findPeer(a.tcpConnections, peer)) return Outcome::error(446, "connection_exists");
  const auto& q = policy_->quotas;
  if (q.tcpConnectionsPerAllocation && a.tcpConnections.size() >= q.tcpConnectionsPerAllocation)
    return Outcome::error(486, "too_many_tcp_connections");
  const double perMinute = static_cast<double>(q.connectsPerMinute);
  if (!a.connectBudget.take(1, perMinute / 60, perMinute, req.now)) {
    counters_.limited(RateLimitKind::Connect);
    return Outcome::error(486, "connect_rate_limited");
  }
  return Outcome::success();
}

// RFC 6062 §5.2. The answer waits for connect() (onTcpPeerConnected).
Outcome TurnServer::handleConnect(Request& req) {
  if (!req.alloc->tcp) return Outcome::error(400, "not_a_tcp_allocation");
  const stun::RawAttribute* attr = req.msg.find(stun::attr::XorPeerAddress);
  auto peer = attr ? req.msg.xorAddress(*attr) : std::nullopt;
  if (!peer) return Outcome::error(400, "missing_peer_address");
  // Every attempt, allowed or not, feeds the relay_scan detector (threats.md S7).
  deps_.events.onConnectAttempt(*req.alloc, *peer);
  if (Outcome o = checkConnectAllowed(req, *peer); o.kind != Outcome::Kind::Success) return o;
  Allocation& a = *req.alloc;
  TcpConnection c;
  c.id = tcp_.newId(deps_.rng, a.user);
  c.allocationId = a.id;
  c.peer = *peer;
  c.deadline = req.now + kTcpBindTimeout;
  c.connectTxn = req.msg.transactionId();
  c.connectFingerprint = req.msg.hasFingerprint();
  tcp_.insert(c);
  a.tcpConnections.push_back(c.id);
  if (!deps_.io.connectTcpPeer(a.relay, *peer, c.id)) {
    forgetTcpConnection(c.id);
    return Outcome::error(447, "connect_failed");
  }
  return Outcome::deferred();
}

// RFC 6062 §5.4: on a new TCP/TLS connection, with the allocation owner's
// credentials. An unknown id and another user's id get the same 400, so the
// answer tells a guesser nothing.
Outcome TurnServer::handleConnectionBind(Request& req) {
  if (!isStream(req.tuple.transport)) return Outcome::error(400, "connection_bind_over_udp");
  if (req.alloc) return Outcome::error(400, "control_connection");
  auto id = req.msg.connectionId();
  if (!id) return Outcome::error(400, "missing_connection_id");
  // The shared CONNECTION-ID map gates the bind (Pending, same user, once)
  // and names the worker owning the peer connection.
  auto owner = tcp_.directory().takeForBind(*id, req.auth.user);
  if (!owner) return Outcome::error(400, "unknown_connection_id");
  if (*owner != deps_.worker.index) {
    encode(replyTo(req), Outcome::success());  // sent before the connection moves
    deps_.io.moveTcpBind(req.tuple, *id, *owner);  // the owner joins it, or closes it
    return Outcome::alreadySent();
  }
  TcpConnection* c = tcp_.find(*id);
  Allocation* a = c ? table_.findById(c->allocationId) : nullptr;
  if (!a || c->state != TcpState::Pending) return Outcome::error(400, "unknown_connection_id");
  c->state = TcpState::Bound;
  // The answer must leave on this connection before it becomes a raw pipe:
  // encoded now, reported by respond() when the handler returns.
  encode(replyTo(req), Outcome::success());
  if (!deps_.io.bindTcpPeer(req.tuple, c->id, policy_->quotas.maxBps)) {
    deps_.io.closeTcpPeer(c->id);
    forgetTcpConnection(c->id);
  }
  return Outcome::alreadySent();
}

std::optional<uint32_t> TurnServer::onTcpPeerAccepted(uint64_t allocationId,
                                                      const SocketAddress& peer) {
  Allocation* a = table_.findById(allocationId);
  if (!a) return std::nullopt;
  const Instant now = deps_.clock.now();
  auto refuse = [&](DropReason r) -> std::optional<uint32_t> {
    drop(r, peer);
    return std::nullopt;
  };
  // RFC 6062 §5.3: no permission, no connection; the rules are checked too.
  if (auto rule = peerDenied(*a, peer)) {
    deps_.events.onPeerDenied(peer, *rule, a->tuple, a->user);
    return refuse(DropReason::PeerDenied);
  }
  if (!a->hasPermission(peer.ip, now)) return refuse(DropReason::NoPermission);
  const size_t cap = policy_->quotas.tcpConnectionsPerAllocation;
  if (cap && a->tcpConnections.size() >= cap) return refuse(DropReason::RateLimited);
  TcpConnection c;
  c.id = tcp_.newId(deps_.rng, a->user);
  tcp_.directory().markPending(c.id);
  c.allocationId = a->id;
  c.peer = peer;
  c.inbound = true;
  c.state = TcpState::Pending;
  c.deadline = now + kTcpBindTimeout;
  tcp_.insert(c);
  a->tcpConnections.push_back(c.id);
  stun::TransactionId txn;
  deps_.rng.fill(txn);
  stun::MessageBuilder b(out_, Method::ConnectionAttempt, MessageClass::Indication, txn);
  b.addXorAddress(stun::attr::XorPeerAddress, peer);
  b.addU32(stun::attr::ConnectionId, c.id);
  deps_.io.sendToClient(a->tuple, b.bytes());
  return c.id;
}

void TurnServer::answerConnect(const TcpConnection& c, int code, std::string_view reason) {
  Allocation* a = table_.findById(c.allocationId);
  if (!a) return;
  const ReplyTo to{Method::Connect, c.connectTxn, a->tuple, deps_.clock.now(), &a->key,
                   c.connectFingerprint, {}};
  ResponseAttrs attrs;
  attrs.connectionId = c.id;
  respond(to, code ? Outcome::error(code, reason) : Outcome::success(std::move(attrs)));
}

void TurnServer::onTcpPeerConnected(uint32_t id, bool ok) {
  TcpConnection* c = tcp_.find(id);
  if (!c || c->state != TcpState::Connecting) return;
  if (!ok) {
    answerConnect(*c, 447, "connect_failed");
    return forgetTcpConnection(id);
  }
  c->state = TcpState::Pending;
  c->deadline = deps_.clock.now() + kTcpBindTimeout;
  tcp_.directory().markPending(id);
  answerConnect(*c, 0, {});
}

std::optional<uint64_t> TurnServer::onTcpBindMoved(uint32_t id) {
  TcpConnection* c = tcp_.find(id);
  if (!c || c->state != TcpState::Pending || !table_.findById(c->allocationId)) return std::nullopt;
  c->state = TcpState::Bound;
  return policy_->quotas.maxBps;
}

void TurnServer::onTcpPeerClosed(uint32_t id) { forgetTcpConnection(id); }

void TurnServer::onTcpRelayed(uint32_t id, Direction d, size_t bytes) {
  TcpConnection* c = tcp_.find(id);
  Allocation* a = c ? table_.findById(c->allocationId) : nullptr;
  if (!a) return;
  (d == Direction::ClientToPeer ? a->bytesToPeer : a->bytesToClient) += bytes;
  counters_.relayed(d, a->tuple.transport, bytes);
}

void TurnServer::expireTcpConnections(Instant now) {
  for (uint32_t id : tcp_.expired(now)) {
    TcpConnection* c = tcp_.find(id);
    if (c->state == TcpState::Connecting) answerConnect(*c, 447, "connect_timeout");
    deps_.io.closeTcpPeer(id);
    forgetTcpConnection(id);
  }
}

void TurnServer::closeTcpConnections(Allocation& a) {
  for (uint32_t id : a.tcpConnections) {
    deps_.io.closeTcpPeer(id);
    tcp_.erase(id);
  }
  a.tcpConnections.clear();
}

void TurnServer::closeDeniedTcpConnections(Allocation& a) {
  std::vector<uint32_t> doomed;
  for (uint32_t id : a.tcpConnections) {
    const TcpConnection* c = tcp_.find(id);
    auto rule = c ? peerDenied(a, c->peer) : std::nullopt;
    if (!rule) continue;
    deps_.events.onPeerRevoked(c->peer, *rule, a.tuple, a.user);
    doomed.push_back(id);
  }
  for (uint32_t id : doomed) {
    deps_.io.closeTcpPeer(id);
    forgetTcpConnection(id);
  }
}

void TurnServer::forgetTcpConnection(uint32_t id) {
  TcpConnection* c = tcp_.find(id);
  if (!c) return;
  if (Allocation* a = table_.findById(c->allocationId)) std::erase(a->tcpConnections, id);
  tcp_.erase(id);
}

}  // namespace tw::turn
