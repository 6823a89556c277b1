// TurnServer's side of the TCP relay (RFC 6062): the edge reports connect()
// results, accepted and closed peer connections, moved binds and relayed
// bytes, and this file dispatches them to their handlers (handle_connect.cc,
// handle_connection_bind.cc, handle_tcp_peer.cc) and their Outcomes to
// respond.cc. Hand-overs of bound data connections and the connection
// table's upkeep (expiry, allocation end, reload) are here.
#include "relay/turn/turn_server.h"

namespace tw::turn {

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
  TcpPeerDeps d{deps_.relays, tcp_, deps_.rng};
  const Outcome o = handleTcpPeer({*a, peer, deps_.clock.now(), *policy_}, d);
  respondToPeer(*a, peer, o);
  if (!o.ok()) return std::nullopt;
  return o.attrs.connectionId;
}

void TurnServer::answerConnect(const TcpConnection& c, const Outcome& outcome) {
  Allocation* a = table_.findById(c.allocationId);
  if (!a) return;
  const ReplyTo to{Method::Connect, c.connectTxn,         a->tuple, deps_.clock.now(),
                   &a->key,         c.connectFingerprint, {}};
  respond(to, outcome);
}

void TurnServer::onTcpPeerConnected(uint32_t id, bool ok) {
  TcpConnection* c = tcp_.find(id);
  if (!c || c->state != TcpState::Connecting) return;
  const Outcome o = handleConnectDone(*c, ok, deps_.clock.now(), tcp_);
  answerConnect(*c, o);
  if (!o.ok()) forgetTcpConnection(id);
}

std::optional<uint64_t> TurnServer::onTcpBindMoved(uint32_t id) {
  ConnectionBindDeps d = bindDeps();
  if (!handleMovedBind(id, d)) return std::nullopt;
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
    if (c->state == TcpState::Connecting) answerConnect(*c, Outcome::error(447, "connect_timeout"));
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
