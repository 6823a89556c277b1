// A peer connects to a TCP allocation's relayed address (RFC 6062 §5.3):
// it needs a permission and must pass the peer rules, and the allocation
// its connection cap. Accepted, it waits 30 s for the client's
// ConnectionBind; respond.cc tells the client with a ConnectionAttempt
// indication.
#include "relay/turn/handlers.h"

namespace tw::turn {

Outcome handleTcpPeer(const TcpPeerContext& p, TcpPeerDeps& d) {
  Allocation& a = p.alloc;
  if (auto rule = peerDenied(p.policy, d.relays, a, p.peer))
    return Outcome::dropped(DropReason::PeerDenied, std::move(*rule)).with(Event::Kind::PeerDenied, p.peer);
  if (!a.hasPermission(p.peer.ip, p.now)) return Outcome::dropped(DropReason::NoPermission);
  const size_t cap = p.policy.quotas.tcpConnectionsPerAllocation;
  if (cap && a.tcpConnections.size() >= cap) return Outcome::dropped(DropReason::RateLimited);
  TcpConnection c;
  c.id = d.tcp.newId(d.rng, a.user);
  d.tcp.directory().markPending(c.id);
  c.allocationId = a.id;
  c.peer = p.peer;
  c.inbound = true;
  c.state = TcpState::Pending;
  c.deadline = p.now + kTcpBindTimeout;
  d.tcp.insert(c);
  a.tcpConnections.push_back(c.id);
  ResponseAttrs attrs;
  attrs.connectionId = c.id;
  return Outcome::success(std::move(attrs));
}

}  // namespace tw::turn
