#include "relay/turn/turn_server.h"

#include <chrono>

#include "relay/stun/channel_data.h"

namespace tw::turn {

using stun::MessageClass;
using stun::Method;

TurnServer::TurnServer(ServerDeps deps, std::shared_ptr<const policy::PolicySnapshot> policy)
    : deps_(deps),
      policy_(std::move(policy)),
      ownShared_(deps.shared ? nullptr
                             : std::make_unique<SharedLimits>(deps.rng, policy_->ipv6ClientPrefix,
                                                              deps.tableSets ? deps.tableSets : kBanSets)),
      shared_(deps.shared ? deps.shared : ownShared_.get()),
      rates_(SipKey::random(deps.rng), deps.tableSets ? deps.tableSets : kRateSets,
             policy_->ipv6ClientPrefix) {
  ids_.worker = deps_.worker;
  tcp_.attach(shared_->connections, deps_.worker.index);
  out_.reserve(2048);
}

TurnServer::~TurnServer() { closeAll(); }

void TurnServer::setPolicy(std::shared_ptr<const policy::PolicySnapshot> policy) {
  // The worker calls this only when the snapshot changed (one generation
  // check, at the top of its loop iteration).
  policy_ = std::move(policy);
  applyPolicyToAllocations();
}

void TurnServer::applyPolicyToAllocations() {
  std::vector<uint64_t> blocked;
  table_.forEach([&](Allocation& a) {
    if (policy_->isBlocked(a.user)) return blocked.push_back(a.id);
    // RFC 8656 permissions are per IP; the rules may be per port, so each
    // permission is re-checked with the port that last installed it.
    std::erase_if(a.permissions, [&](const Permission& p) {
      const SocketAddress peer{p.peer, p.port};
      auto rule = peerDenied(a, peer);
      if (rule) deps_.events.onPeerRevoked(peer, *rule, a.tuple, a.user);
      return rule.has_value();
    });
    std::erase_if(a.channels, [&](const ChannelBinding& c) {
      auto rule = peerDenied(a, c.peer);
      if (rule) deps_.events.onPeerRevoked(c.peer, *rule, a.tuple, a.user);
      return rule.has_value();
    });
    closeDeniedTcpConnections(a);
  });
  for (uint64_t id : blocked) deleteAllocation(id, "blocked");
}

void TurnServer::onClientDatagram(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  AdmissionDeps admission = admissionDeps();
  const Admission verdict = admitDatagram({tuple, bytes, deps_.clock.now(), *policy_}, admission);
  if (!verdict.admitted) return drop(verdict.reason, tuple.client);  // banned, over the request rate
  // RFC 8656 §12: the first two bits tell ChannelData (0b01) from STUN (0b00).
  if (stun::isChannelData(bytes)) return onChannelData(tuple, bytes);
  auto decoded = stun::decode(bytes);
  if (!decoded) {
    // Malformed datagrams get no answer: answering would make the relay a
    // reflector for forged sources.
    drop(DropReason::Malformed, tuple.client);
    return;
  }
  onStunMessage(tuple, decoded.value());
}

void TurnServer::onOversizeDatagram(const SocketAddress& source) { drop(DropReason::Oversize, source); }

void TurnServer::onChannelData(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  auto drop = [&](DropReason r) { this->drop(r, tuple.client); };
  auto cd = stun::decodeChannelData(bytes);
  if (!cd) return drop(DropReason::Malformed);
  Allocation* a = table_.find(tuple);
  if (!a) return drop(DropReason::NoAllocation);
  const Instant now = deps_.clock.now();
  const ChannelBinding* ch = a->activeChannel(cd->channel, now);
  if (!ch) return drop(DropReason::NoChannel);
  if (!a->hasPermission(ch->peer.ip, now)) return drop(DropReason::NoPermission);
  if (!withinBandwidth(*a, Direction::ClientToPeer, cd->payload.size(), now))
    return drop(DropReason::OverBandwidth);
  if (!deps_.io.sendToPeer(a->relayFor(ch->peer.ip.family()), deps_.relays.toBound(ch->peer), cd->payload))
    return drop(DropReason::SendFailed);
  a->bytesToPeer += cd->payload.size();
  ++a->packetsToPeer;
  counters_.relayed(Direction::ClientToPeer, a->tuple.transport, cd->payload.size());
}

void TurnServer::onStunMessage(const FiveTuple& tuple, const stun::Message& msg) {
  switch (msg.messageClass()) {
    case MessageClass::Indication:
      return onIndication(tuple, msg);
    case MessageClass::Request: {
      ++counters_.requests;
      const auto started = std::chrono::steady_clock::now();
      Request req{tuple, msg, deps_.clock.now(), {}, table_.find(tuple), *policy_};
      Outcome outcome = process(req);
      respond(req, outcome);
      return deps_.events.onRequestDuration(msg.method(), std::chrono::steady_clock::now() - started);
    }
    default:
      // A server never expects responses from clients.
      drop(DropReason::UnexpectedClass, tuple.client);
  }
}

void TurnServer::onIndication(const FiveTuple& tuple, const stun::Message& msg) {
  if (msg.method() != Method::Send) return drop(DropReason::UnexpectedClass, tuple.client);
  const RequestContext ind{tuple, msg, deps_.clock.now(), {}, table_.find(tuple), *policy_};
  SendDeps d{peerGate(), deps_.io, counters_};
  conclude(ind, handleSend(ind, d));
}

Outcome TurnServer::process(Request& req) {
  // RFC 8489 §6.3.1: Binding needs no credentials.
  if (req.msg.method() == Method::Binding) return dispatch(req);
  Outcome gate = authenticate(req);
  if (!gate.ok()) {
    AdmissionDeps d = admissionDeps();
    return admitAuthFailure(req, std::move(gate), d);
  }
  if (Outcome blocked = admitUser(req); !blocked.ok()) return blocked;
  // RFC 8489 §6.3.1: unknown comprehension-required attributes after auth.
  if (!req.msg.unknownComprehensionRequired().empty()) return Outcome::error(420, "unknown_attribute");
  return dispatch(req);
}

Outcome TurnServer::dispatch(Request& req) {
  switch (req.msg.method()) {
    case Method::Binding:
      if (!req.msg.unknownComprehensionRequired().empty()) return Outcome::error(420, "unknown_attribute");
      return handleBinding(req);
    case Method::Allocate: {
      if (overVolume(req)) return Outcome::error(486, "volume_quota");
      AllocateDeps d{table_, deps_.relays, shared_->quotas, deps_.io, deps_.rng, ids_, draining_};
      return handleAllocate(req, d);
    }
    case Method::ConnectionBind: {
      // RFC 6062 §5.4: arrives on a new data connection, which has no allocation.
      ConnectionBindDeps d = bindDeps();
      return handleConnectionBind(req, d);
    }
    default:
      return dispatchOnAllocation(req);
  }
}

Outcome TurnServer::dispatchOnAllocation(Request& req) {
  // Every other method acts on the allocation of this 5-tuple (RFC 8656 §5).
  if (!req.alloc) return Outcome::error(437, "no_allocation");
  if (req.alloc->username != req.auth.username) return Outcome::error(441, "wrong_credentials");
  if (overVolume(req)) return Outcome::error(486, "volume_quota");
  switch (req.msg.method()) {
    case Method::Refresh:
      return handleRefresh(req, [this](uint64_t id, std::string_view why) { deleteAllocation(id, why); });
    case Method::CreatePermission:
      return handleCreatePermission(req, peerGate());
    case Method::ChannelBind:
      return handleChannelBind(req, peerGate());
    case Method::Connect: {
      ConnectDeps d{peerGate(), tcp_, deps_.io, deps_.rng, counters_};
      return handleConnect(req, d);
    }
    default:
      return Outcome::error(400, "unsupported_method");
  }
}

void TurnServer::tick() {
  const Instant now = deps_.clock.now();
  for (uint64_t id : table_.expired(now)) deleteAllocation(id, "expired");
  table_.forEach([&](Allocation& a) { a.sweep(now); });
  expireTcpConnections(now);
  for (auto& e : deps_.relays.endpoints()) e.pool->expireReservations(now);
  shared_->bans.expire(now);
  chargeVolume(now);
  reportUsage(now);
}

void TurnServer::onConnectionClosed(const FiveTuple& tuple) {
  if (Allocation* a = table_.find(tuple)) deleteAllocation(a->id, "connection_closed");
}

void TurnServer::closeAll() {
  std::vector<uint64_t> ids;
  table_.forEach([&](Allocation& a) { ids.push_back(a.id); });
  for (uint64_t id : ids) deleteAllocation(id, "shutdown");
}

bool TurnServer::endAllocation(uint64_t id, std::string_view why) {
  if (!table_.findById(id)) return false;
  deleteAllocation(id, why);
  return true;
}

void TurnServer::deleteAllocation(uint64_t id, std::string_view why) {
  auto a = table_.remove(id);
  if (!a) return;
  settleVolume(*a);
  deps_.events.onAllocationDeleted(*a, why);
  shared_->quotas.release(a->username, a->tuple.client.ip, a->reservedBps);
  closeTcpConnections(*a);
  deps_.io.closeRelay(a->relay);
  for (auto& e : deps_.relays.endpoints())
    if (e.bind == a->relayed.ip) e.pool->release(a->relayed.port);
  if (a->relay2 != kNoRelay) {
    deps_.io.closeRelay(a->relay2);
    for (auto& e : deps_.relays.endpoints())
      if (e.bind == a->relayed2.ip) e.pool->release(a->relayed2.port);
  }
}

void TurnServer::onPeerDatagram(uint64_t allocationId, const SocketAddress& peer,
                                std::span<const uint8_t> bytes) {
  Allocation* a = table_.findById(allocationId);
  if (!a) return;
  const Instant now = deps_.clock.now();
  // Relay-to-relay through our external address arrives from the bound
  // one: the client knows (and permitted) the advertised form (issue 21).
  const SocketAddress shown = deps_.relays.toAdvertised(peer);
  if (shown != peer && a->hasPermission(shown.ip, now)) return relayToClient(*a, shown, bytes);
  // RFC 8656 §11.3: no permission for the peer's IP -> silently discard.
  if (!a->hasPermission(peer.ip, now)) {
    drop(DropReason::NoPermission, peer);
    return;
  }
  relayToClient(*a, peer, bytes);
}

void TurnServer::relayToClient(Allocation& a, const SocketAddress& peer, std::span<const uint8_t> bytes) {
  const Instant now = deps_.clock.now();
  if (!withinBandwidth(a, Direction::PeerToClient, bytes.size(), now)) {
    drop(DropReason::OverBandwidth, peer);
    return;
  }
  if (const ChannelBinding* ch = a.activeChannelFor(peer, now)) {
    // Over stream transports ChannelData is padded to 4 (RFC 8656 §12.5).
    stun::encodeChannelData(out_, ch->number, bytes, a.tuple.transport != Transport::Udp);
  } else {
    stun::TransactionId txn;
    deps_.rng.fill(txn);
    stun::MessageBuilder b(out_, Method::Data, MessageClass::Indication, txn);
    b.addXorAddress(stun::attr::XorPeerAddress, peer);
    b.addBytes(stun::attr::Data, bytes);
  }
  if (!deps_.io.sendToClient(a.tuple, out_)) {
    counters_.drop(DropReason::SendFailed);
    return;
  }
  a.bytesToClient += bytes.size();
  ++a.packetsToClient;
  counters_.relayed(Direction::PeerToClient, a.tuple.transport, bytes.size());
}

}  // namespace tw::turn
