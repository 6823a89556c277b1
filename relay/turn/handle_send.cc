#include "relay/turn/handlers.h"

namespace tw::turn {

namespace {
/// The last steps of a Send whose peer passed: bandwidth, then the socket.
Outcome relay(const RequestContext& ind, SendDeps& d, Allocation& a, const SocketAddress& peer,
              std::span<const uint8_t> data) {
  if (!withinBandwidth(a, Direction::ClientToPeer, data.size(), ind.now, ind.policy.quotas.maxBps))
    return Outcome::dropped(DropReason::OverBandwidth);
  // Our own external relay address goes to the bound one (no edge hairpin).
  if (!d.io.sendToPeer(a.relayFor(peer.ip.family()), d.peers.relays.toBound(peer), data))
    return Outcome::dropped(DropReason::SendFailed);
  a.bytesToPeer += data.size();
  ++a.packetsToPeer;
  d.counters.relayed(Direction::ClientToPeer, a.tuple.transport, data.size());
  return Outcome::success();
}
}  // namespace

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
  if (auto rule = d.peers.deny(ind, *a, *peer))
    return Outcome::dropped(DropReason::PeerDenied, std::move(*rule)).with(Event::Kind::PeerDenied, *peer);
  // relay_scan counts the destinations that passed the rules, sent or not.
  return relay(ind, d, *a, *peer, *data).with(Event::Kind::SendTarget, *peer);
}

}  // namespace tw::turn
