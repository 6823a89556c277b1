#include "relay/turn/handlers.h"

namespace tw::turn {

// RFC 8656 §11.2: Send indications are never answered; anything wrong is a
// counted, silent drop. The peer is checked against the rules on every send
// so that tightened rules bite at relay time, not only at permission time.
Outcome handleSend(const RequestContext& ind, SendDeps& d) {
  Allocation* a = ind.alloc;
  if (!a) return Outcome::dropped(DropReason::NoAllocation);
  if (a->tcp) return Outcome::dropped(DropReason::WrongTransport);  // RFC 6062 §5.1: Connect instead
  const stun::RawAttribute* peerAttr = ind.msg.find(stun::attr::XorPeerAddress);
  auto data = ind.msg.data();
  if (!peerAttr || !data) return Outcome::dropped(DropReason::Malformed);
  auto peer = ind.msg.xorAddress(*peerAttr);
  if (!peer || !a->servesFamily(peer->ip.family())) return Outcome::dropped(DropReason::Malformed);
  if (!a->hasPermission(peer->ip, ind.now)) return Outcome::dropped(DropReason::NoPermission);
  if (d.peers.deny(ind, *a, *peer)) return Outcome::dropped(DropReason::PeerDenied);
  d.peers.events.onSendTarget(*a, *peer);  // relay_scan: distinct destinations (metrics side)
  if (!withinBandwidth(*a, Direction::ClientToPeer, data->size(), ind.now, ind.policy.quotas.maxBps))
    return Outcome::dropped(DropReason::OverBandwidth);
  // Our own external relay address goes to the bound one (no edge hairpin).
  if (!d.io.sendToPeer(a->relayFor(peer->ip.family()), d.peers.relays.toBound(*peer), *data))
    return Outcome::dropped(DropReason::SendFailed);
  a->bytesToPeer += data->size();
  d.counters.relayed(Direction::ClientToPeer, a->tuple.transport, data->size());
  return Outcome::success();
}

}  // namespace tw::turn
