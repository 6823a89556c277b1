#include "relay/turn/turn_server.h"

namespace tw::turn {

// RFC 8656 §11.2: Send indications are never answered; anything wrong is a
// counted, silent drop. The peer is checked against the rules on every send
// so that tightened rules bite at relay time, not only at permission time.
Outcome TurnServer::handleSend(const FiveTuple& tuple, const stun::Message& msg) {
  Allocation* a = table_.find(tuple);
  if (!a) return Outcome::dropped(DropReason::NoAllocation);
  if (a->tcp) return Outcome::dropped(DropReason::WrongTransport);  // RFC 6062 §5.1: Connect instead
  const stun::RawAttribute* peerAttr = msg.find(stun::attr::XorPeerAddress);
  auto data = msg.data();
  if (!peerAttr || !data) return Outcome::dropped(DropReason::Malformed);
  auto peer = msg.xorAddress(*peerAttr);
  if (!peer || !a->servesFamily(peer->ip.family())) return Outcome::dropped(DropReason::Malformed);
  const Instant now = deps_.clock.now();
  if (!a->hasPermission(peer->ip, now)) return Outcome::dropped(DropReason::NoPermission);
  if (auto rule = peerDenied(*a, *peer)) {
    deps_.events.onPeerDenied(*peer, *rule, tuple, a->user);
    return Outcome::dropped(DropReason::PeerDenied);
  }
  a->sendTargets.note(*peer);  // O(1): the relay_scan detector reads it once a second
  if (!withinBandwidth(*a, Direction::ClientToPeer, data->size(), now))
    return Outcome::dropped(DropReason::OverBandwidth);
  if (!deps_.io.sendToPeer(a->relayFor(peer->ip.family()), *peer, *data))
    return Outcome::dropped(DropReason::SendFailed);
  a->bytesToPeer += data->size();
  counters_.relayed(Direction::ClientToPeer, a->tuple.transport, data->size());
  return Outcome::success();
}

}  // namespace tw::turn
