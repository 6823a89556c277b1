// Admission control of the request pipeline (docs/policy.md): IP bans and
// request rate limits before decode, the unauthenticated rate and failure
// counting after the auth gate, blocked users, allocation quotas, per
// allocation bandwidth, and applying a reloaded policy to live allocations.
#include <algorithm>

#include "relay/turn/turn_server.h"

namespace tw::turn {

namespace {
/// A STUN request by its first two bytes: top bits 00 and class bits
/// C1 (0x0100) and C0 (0x0010) clear (RFC 8489 §5). Indications (Send) and
/// ChannelData are media, not requests, and are not rate limited here.
bool looksLikeRequest(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2) return false;
  const uint16_t type = static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
  return (type & 0xC000) == 0 && (type & 0x0110) == 0;
}
}  // namespace

bool TurnServer::admit(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  const Instant now = deps_.clock.now();
  DropReason reason;
  if (shared_->bans.isBanned(tuple.client, now)) {
    reason = DropReason::Banned;
  } else if (looksLikeRequest(bytes) && !rates_.allowRequest(tuple.client, now, policy_->rateLimits)) {
    reason = DropReason::RateLimited;
    counters_.limited(RateLimitKind::Requests);
  } else {
    return true;
  }
  drop(reason, tuple.client);
  return false;
}

Outcome TurnServer::afterAuthFailure(const Request& req, Outcome gate) {
  if (gate.kind != Outcome::Kind::Error || (gate.code != 401 && gate.code != 438)) return gate;
  const SocketAddress& source = req.tuple.client;
  // A first request without credentials ("challenge") and a stale nonce are
  // the normal handshake; every other 401 is a failed authentication. Bans
  // are per source address, so a guesser behind a NAT does not lock out
  // the other users of its IP (docs/policy.md).
  if (gate.code == 401 && gate.reason != "challenge" &&
      shared_->bans.recordFailure(source, req.now, policy_->bans))
    deps_.events.onBanned(source, policy_->bans.banFor);
  // Over the unauthenticated rate: no answer at all (no reflection).
  if (!rates_.allowUnauthenticated(source, req.now, policy_->rateLimits)) {
    counters_.limited(RateLimitKind::Unauthenticated);
    return Outcome::dropped(DropReason::RateLimited);
  }
  return gate;
}

bool TurnServer::isBlockedRequest(const Request& req) const {
  const auto m = req.msg.method();
  if (m != stun::Method::Allocate && m != stun::Method::Refresh) return false;
  if (!policy_->isBlocked(req.auth.user)) return false;
  deps_.events.onAuthFailed(policy::toString(policy::AuthFailure::Blocked), req.tuple, req.auth.username);
  return true;
}

void TurnServer::releaseQuota(const Allocation& a) {
  shared_->quotas.release(a.username, a.tuple.client.ip, a.reservedBps);
}

bool withinBandwidth(Allocation& a, Direction d, size_t bytes, Instant now, uint64_t maxBps) {
  const double rate = static_cast<double>(maxBps);
  if (rate <= 0) return true;
  // Burst: one second's worth, so short spikes (key frames) pass.
  TokenBucket& b = d == Direction::ClientToPeer ? a.toPeerBudget : a.toClientBudget;
  return b.take(static_cast<double>(bytes), rate, rate, now);
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

}  // namespace tw::turn
