// Turning an Outcome into bytes and events: the single exit of the request
// pipeline.
#include "relay/turn/turn_server.h"

namespace tw::turn {

using stun::MessageClass;

stun::MessageBuilder& TurnServer::startSuccess(const Request& req) {
  builder_.emplace(out_, req.msg.method(), MessageClass::SuccessResponse,
                   req.msg.transactionId());
  return *builder_;
}

void TurnServer::respond(Request& req, const Outcome& outcome) {
  if (outcome.kind == Outcome::Kind::Deferred) return builder_.reset();  // reported when answered
  deps_.events.onRequest(req.msg.method(), outcome.kind == Outcome::Kind::Error ? outcome.code : 0,
                         outcome.reason, req.tuple);
  switch (outcome.kind) {
    case Outcome::Kind::Success:
      finishAndSend(req, *builder_, !req.auth.username.empty());
      break;
    case Outcome::Kind::Error:
      ++counters_.errorResponses;
      sendError(req, outcome);
      break;
    case Outcome::Kind::Drop:
      drop(outcome.drop, req.tuple.client);
      break;
    case Outcome::Kind::AlreadySent:
    case Outcome::Kind::Deferred:
      break;
  }
  builder_.reset();
}

void TurnServer::sendError(Request& req, const Outcome& outcome) {
  stun::MessageBuilder b(out_, req.msg.method(), MessageClass::ErrorResponse,
                         req.msg.transactionId());
  const bool challenge = outcome.code == 401 || outcome.code == 438;
  // Challenges go to sources nobody has authenticated: no reason phrase.
  challenge ? b.addBareErrorCode(outcome.code) : b.addErrorCode(outcome.code);
  if (outcome.code == 420) b.addUnknownAttributes(req.msg.unknownComprehensionRequired());
  if (challenge) {
    // RFC 8489 §9.2.4: a fresh nonce bound to this client's address.
    b.addString(stun::attr::Realm, policy_->realmFor(req.tuple));  // this listener's realm
    b.addString(stun::attr::Nonce, deps_.nonces.issue(req.tuple.client.ip, req.now));
  }
  // Once the gate has passed, error responses are integrity-protected too.
  finishAndSend(req, b, !challenge && !req.auth.username.empty());
}

void TurnServer::finishAndSend(const Request& req, stun::MessageBuilder& b, bool authenticated) {
  if (!policy_->software.empty()) b.addString(stun::attr::Software, policy_->software);
  if (authenticated) b.addMessageIntegrity(req.auth.key);
  // FINGERPRINT mirrors the request (RFC 8489 §7.3): answers stay minimal,
  // which keeps the amplification of Binding and 401 answers low.
  if (req.msg.hasFingerprint()) b.addFingerprint();
  deps_.io.sendToClient(req.tuple, b.bytes());
}

}  // namespace tw::turn
