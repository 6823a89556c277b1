// TurnServer's side of the TCP relay (RFC 6062) after the requests: the
// edge reports connect() results, accepted and closed peer connections and
// relayed bytes; deferred Connect answers and hand-overs of ConnectionBind
// data connections go out from here. The Connect and ConnectionBind
// handlers themselves are in handle_connect.cc.
#include "relay/turn/turn_server.h"

namespace tw::turn {

using stun::MessageClass;
using stun::Method;

void TurnServer::handOver(const FiveTuple& client, const TcpHandOver& h) {
  if (h.owner) {
    deps_.io.moveTcpBind(client, h.id, *h.owner);  // the owner joins it, or closes it
    return;
  }
  if (deps_.io.bindTcpPeer(client, h.id, policy_->quotas.maxBps)) return;
  deps_.io.closeTcpPeer(h.id);
  forgetTcpConnection(h.id);
}

std::optional<uint32_t> TurnServer::onTcpPeerAccepted(uint64_t allocationId, const SocketAddress& peer) {
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
  const ReplyTo to{Method::Connect, c.connectTxn,         a->tuple, deps_.clock.now(),
                   &a->key,         c.connectFingerprint, {}};
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
