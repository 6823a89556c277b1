// Admission control of the request pipeline (docs/policy.md), as handlers:
// IP bans and request rate limits before decode, the unauthenticated rate
// and failure counting after the auth gate, blocked users, allocation
// quotas and per-allocation bandwidth. Each decides from its context and
// the tables its deps name; none reports: a verdict or an Outcome (with its
// events) goes back to the pipeline, which counts and reports it.
#include "relay/turn/handlers.h"

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

Admission admitDatagram(const DatagramContext& dg, AdmissionDeps& d) {
  // One relaxed atomic load while no ban is active.
  if (d.bans.isBanned(dg.tuple.client, dg.now)) return Admission::refuse(DropReason::Banned);
  if (looksLikeRequest(dg.bytes) && !d.rates.allowRequest(dg.tuple.client, dg.now, dg.policy.rateLimits)) {
    d.counters.limited(RateLimitKind::Requests);
    return Admission::refuse(DropReason::RateLimited);
  }
  return Admission::admit();
}

Outcome admitAuthFailure(const RequestContext& req, Outcome gate, AdmissionDeps& d) {
  if (gate.kind != Outcome::Kind::Error || (gate.code != 401 && gate.code != 438)) return gate;
  const SocketAddress& source = req.tuple.client;
  // A first request without credentials ("challenge") and a stale nonce are
  // the normal handshake; every other 401 is a failed authentication. Bans
  // are per source address, so a guesser behind a NAT does not lock out
  // the other users of its IP (docs/policy.md).
  if (gate.code == 401 && gate.reason != "challenge" &&
      d.bans.recordFailure(source, req.now, req.policy.bans))
    gate.events.add(Event::Kind::Banned, source);
  // Over the unauthenticated rate: no answer at all (no reflection); the
  // failure and a ban are reported all the same.
  if (!d.rates.allowUnauthenticated(source, req.now, req.policy.rateLimits)) {
    d.counters.limited(RateLimitKind::Unauthenticated);
    Outcome silent = Outcome::dropped(DropReason::RateLimited);
    silent.events = gate.events;
    return silent;
  }
  return gate;
}

Outcome admitUser(const RequestContext& req) {
  const auto m = req.msg.method();
  if (m != stun::Method::Allocate && m != stun::Method::Refresh) return Outcome::success();
  if (!req.policy.isBlocked(req.auth.user)) return Outcome::success();
  const Event blocked{
      Event::Kind::AuthFailed, {}, policy::toString(policy::AuthFailure::Blocked), req.auth.username};
  return Outcome::error(403, "user_blocked").with(blocked);
}

Outcome admitAllocation(const RequestContext& req, QuotaBook& quotas) {
  const auto& q = req.policy.quotas;
  auto st = quotas.acquire(req.auth.username, req.tuple.client.ip, q.maxBps, q);
  if (!st) return Outcome::error(486, toString(st.error()));
  return Outcome::success();
}

bool withinBandwidth(Allocation& a, Direction d, size_t bytes, Instant now, uint64_t maxBps) {
  const double rate = static_cast<double>(maxBps);
  if (rate <= 0) return true;
  // Burst: one second's worth, so short spikes (key frames) pass.
  TokenBucket& b = d == Direction::ClientToPeer ? a.toPeerBudget : a.toClientBudget;
  return b.take(static_cast<double>(bytes), rate, rate, now);
}

}  // namespace tw::turn
