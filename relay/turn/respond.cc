// Turning an Outcome into bytes and events: the single exit of the request
// pipeline. Every response is encoded here, including Allocate replays
// (from the attributes stored with the allocation), deferred Connect
// answers (from the connection's record), ConnectionBind answers (sent
// before their connection is handed over) and ConnectionAttempt
// indications. Every event a handler, the auth gate or admission saw is
// reported here from the Outcome's event list, and every drop of a
// datagram, request or peer packet is counted and reported by drop().
#include "relay/turn/turn_server.h"

namespace tw::turn {

using stun::MessageClass;

TurnServer::ReplyTo TurnServer::replyTo(const Request& req) {
  const bool authenticated = !req.auth.username.empty();
  return ReplyTo{req.msg.method(),
                 req.msg.transactionId(),
                 req.tuple,
                 req.now,
                 authenticated ? &req.auth.key : nullptr,
                 req.msg.hasFingerprint(),
                 req.msg.unknownComprehensionRequired()};
}

void TurnServer::drop(DropReason r, const SocketAddress& source) {
  counters_.drop(r);
  deps_.events.onDrop(r, source);
}

void TurnServer::report(const Outcome& outcome, const FiveTuple& tuple, const Allocation* a) {
  for (const Event& e : outcome.events) report(e, outcome, tuple, a);
}

void TurnServer::report(const Event& e, const Outcome& outcome, const FiveTuple& tuple, const Allocation* a) {
  RelayEvents& ev = deps_.events;
  switch (e.kind) {
    case Event::Kind::AuthFailed:
      return ev.onAuthFailed(e.text, tuple, e.username);
    case Event::Kind::Banned:
      return ev.onBanned(e.peer, policy_->bans.banFor);
    case Event::Kind::PeerDenied:
      return ev.onPeerDenied(e.peer, outcome.detail, tuple, a ? std::string_view(a->user) : "");
    case Event::Kind::ConnectAttempt:
      if (a) ev.onConnectAttempt(*a, e.peer);
      return;
    case Event::Kind::SendTarget:
      if (a) ev.onSendTarget(*a, e.peer);
      return;
    case Event::Kind::AllocationCreated:
      // The request's 5-tuple had no allocation before; it has one now.
      if (const Allocation* made = table_.find(tuple)) ev.onAllocationCreated(*made);
      return;
  }
}

void TurnServer::conclude(const Request& ind, const Outcome& outcome) {
  report(outcome, ind.tuple, ind.alloc);
  if (outcome.kind == Outcome::Kind::Drop) drop(outcome.drop, ind.tuple.client);
}

void TurnServer::respondToPeer(const Allocation& a, const SocketAddress& peer, const Outcome& outcome) {
  report(outcome, a.tuple, &a);
  if (outcome.kind == Outcome::Kind::Drop) return drop(outcome.drop, peer);
  if (!outcome.ok() || !outcome.attrs.connectionId) return;
  stun::TransactionId txn;
  deps_.rng.fill(txn);
  stun::MessageBuilder b(out_, stun::Method::ConnectionAttempt, MessageClass::Indication, txn);
  b.addXorAddress(stun::attr::XorPeerAddress, peer);
  b.addU32(stun::attr::ConnectionId, *outcome.attrs.connectionId);
  deps_.io.sendToClient(a.tuple, b.bytes());
}

void TurnServer::respond(const Request& req, const Outcome& outcome) {
  // Refresh with LIFETIME 0 has ended req.alloc by now; no Outcome that
  // does so carries an event that reads it.
  report(outcome, req.tuple, req.alloc);
  respond(replyTo(req), outcome);
  // A ConnectionBind's answer has left on the data connection: now it may
  // move to another worker or become a raw pipe.
  if (outcome.handOver) handOver(req.tuple, *outcome.handOver);
}

void TurnServer::respond(const ReplyTo& to, const Outcome& outcome) {
  if (outcome.kind == Outcome::Kind::Deferred) return;  // reported when answered
  const bool error = outcome.kind == Outcome::Kind::Error;
  deps_.events.onRequest(to.method, error ? outcome.code : 0, outcome.reason, to.tuple);
  switch (outcome.kind) {
    case Outcome::Kind::Error:
      ++counters_.errorResponses;
      [[fallthrough]];
    case Outcome::Kind::Success:
      return encode(to, outcome);
    case Outcome::Kind::Drop:
      return drop(outcome.drop, to.tuple.client);
    case Outcome::Kind::Deferred:
      return;
  }
}

void TurnServer::encode(const ReplyTo& to, const Outcome& outcome) {
  const bool error = outcome.kind == Outcome::Kind::Error;
  stun::MessageBuilder b(out_, to.method, error ? MessageClass::ErrorResponse : MessageClass::SuccessResponse,
                         to.txn);
  const bool challenge = error && (outcome.code == 401 || outcome.code == 438);
  error ? encodeError(b, to, outcome) : encodeAttrs(b, outcome.attrs);
  if (!policy_->software.empty()) b.addString(stun::attr::Software, policy_->software);
  // Once the gate has passed, every answer is integrity-protected.
  if (to.key && !challenge) b.addMessageIntegrity(*to.key, macs_);
  // FINGERPRINT mirrors the request (RFC 8489 §7.3): answers stay minimal,
  // which keeps the amplification of Binding and 401 answers low.
  if (to.fingerprint) b.addFingerprint();
  deps_.io.sendToClient(to.tuple, b.bytes());
}

void TurnServer::encodeError(stun::MessageBuilder& b, const ReplyTo& to, const Outcome& outcome) {
  const bool challenge = outcome.code == 401 || outcome.code == 438;
  // Challenges go to sources nobody has authenticated: no reason phrase.
  challenge ? b.addBareErrorCode(outcome.code) : b.addErrorCode(outcome.code);
  if (outcome.code == 420) b.addUnknownAttributes(to.unknown);
  if (!challenge) return;
  // RFC 8489 §9.2.4: a fresh nonce bound to this client's address.
  b.addString(stun::attr::Realm, policy_->realmFor(to.tuple));  // this listener's realm
  b.addString(stun::attr::Nonce, deps_.nonces.issue(to.tuple.client.ip, to.now, macs_));
}

void TurnServer::encodeAttrs(stun::MessageBuilder& b, const ResponseAttrs& a) {
  if (a.relayed) b.addXorAddress(stun::attr::XorRelayedAddress, *a.relayed);
  if (a.relayed2) b.addXorAddress(stun::attr::XorRelayedAddress, *a.relayed2);
  if (!a.addressError.empty()) b.addBytes(stun::attr::AddressErrorCode, a.addressError);
  if (a.lifetime) b.addU32(stun::attr::Lifetime, *a.lifetime);
  if (a.reservationToken) b.addU64(stun::attr::ReservationToken, *a.reservationToken);
  if (a.mapped) b.addXorAddress(stun::attr::XorMappedAddress, *a.mapped);
  if (a.connectionId) b.addU32(stun::attr::ConnectionId, *a.connectionId);
}

}  // namespace tw::turn
