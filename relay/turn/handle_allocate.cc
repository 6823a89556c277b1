#include "relay/turn/turn_server.h"

namespace tw::turn {

namespace {
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoTcp = 6;  // RFC 6062
constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr int kBindAttempts = 16;
}  // namespace

Duration TurnServer::grantedLifetime(const stun::Message& msg) const {
  // RFC 8656 §7.2: min(requested, max), but never below the default.
  const auto& lim = policy_->limits;
  const Duration def = std::min(lim.defaultLifetime, lim.maxLifetime);
  auto requested = msg.lifetime();
  if (!requested) return def;
  const Duration asked = std::chrono::seconds(*requested);
  return std::max(def, std::min(asked, lim.maxLifetime));
}

Outcome TurnServer::checkAllocateRequest(const Request& req, RelayEndpoint*& endpoint) {
  const stun::Message& m = req.msg;
  auto transport = m.requestedTransport();
  if (!transport) return Outcome::error(400, "missing_requested_transport");
  if (*transport != kProtoUdp && *transport != kProtoTcp)
    return Outcome::error(442, "unsupported_transport");
  if (*transport == kProtoTcp) {
    if (!policy_->tcpRelay) return Outcome::error(442, "tcp_relay_disabled");  // relay.tcp: false
    if (Outcome o = checkTcpAllocate(req); o.kind != Outcome::Kind::Success) return o;
  }
  // RFC 8656 §7.2: EVEN-PORT and RESERVATION-TOKEN together are a 400, as
  // is asking for a family alongside a reservation.
  if (m.evenPort() && m.find(stun::attr::ReservationToken))
    return Outcome::error(400, "even_port_with_token");
  if (m.find(stun::attr::RequestedAddressFamily) && m.find(stun::attr::ReservationToken))
    return Outcome::error(400, "family_with_token");
  if (m.find(stun::attr::RequestedAddressFamily) && m.find(stun::attr::AdditionalAddressFamily))
    return Outcome::error(400, "two_family_attributes");
  if (Outcome o = checkAdditionalFamily(m); o.kind != Outcome::Kind::Success) return o;
  const uint8_t fam = m.requestedAddressFamily().value_or(kFamilyV4);
  if (m.find(stun::attr::RequestedAddressFamily) && !m.requestedAddressFamily())
    return Outcome::error(400, "bad_address_family");
  if (fam != kFamilyV4 && fam != kFamilyV6) return Outcome::error(440, "family_not_supported");
  endpoint = deps_.relays.forFamily(fam == kFamilyV4 ? Family::V4 : Family::V6);
  if (!endpoint) return Outcome::error(440, "family_not_supported");
  return Outcome::success();
}

Outcome TurnServer::openReserved(Request& req, uint64_t token, RelayEndpoint*& ep, Allocation& a) {
  // The token names its pool, which may be another family's: an Allocate
  // with RESERVATION-TOKEN carries no family (RFC 8656 §7.2), so the pair of
  // an IPv6 EVEN-PORT allocation is found by the token alone.
  for (auto& e : deps_.relays.endpoints()) {
    auto port = e.pool->redeem(token, req.now);
    if (!port) continue;
    ep = &e;
    a.relayed = SocketAddress{e.bind, *port};
    auto h = openRelaySocket(a, a.relayed);
    if (!h) {
      e.pool->release(*port);
      return Outcome::error(508, "relay_bind_failed");
    }
    a.relay = h.value();
    return Outcome::success();
  }
  return Outcome::error(508, "bad_reservation_token");
}

Result<RelayHandle, int> TurnServer::openRelaySocket(const Allocation& a,
                                                    const SocketAddress& local) {
  return a.tcp ? deps_.io.openTcpRelay(local, a.id) : deps_.io.openUdpRelay(local, a.id);
}

Outcome TurnServer::openRelay(Request& req, RelayEndpoint*& epRef, Allocation& a,
                              std::optional<uint64_t>& token) {
  if (auto t = req.msg.reservationToken()) return openReserved(req, *t, epRef, a);
  RelayEndpoint& ep = *epRef;
  PortPool& pool = *ep.pool;
  const auto even = req.msg.evenPort();
  for (int i = 0; i < kBindAttempts; ++i) {
    auto lease = pool.acquire(deps_.rng, even.has_value(), even && even->reserve, req.now);
    if (!lease) return Outcome::error(508, "port_pool_exhausted");
    a.relayed = SocketAddress{ep.bind, lease->port};
    auto h = openRelaySocket(a, a.relayed);
    if (h) {
      a.relay = h.value();
      token = lease->token;
      return Outcome::success();
    }
    // Someone else holds this port: keep it out of the pool for a minute.
    pool.release(lease->port);
    if (lease->token && pool.redeem(*lease->token, req.now)) pool.release(lease->port + 1);
    pool.quarantine(lease->port, req.now + std::chrono::minutes(1));
  }
  return Outcome::error(508, "relay_bind_failed");
}

Outcome TurnServer::handleAllocate(Request& req) {
  if (req.alloc) {
    // RFC 8656 §7.2 step 1: a retransmission gets the same answer.
    if (req.alloc->allocateTxn != req.msg.transactionId())
      return Outcome::error(437, "allocation_mismatch");
    if (req.alloc->username != req.auth.username) return Outcome::error(441, "wrong_credentials");
    return Outcome::success(req.alloc->allocateAnswer);
  }
  // Draining (rolling restart): live allocations stay, new ones go elsewhere.
  if (draining_) return Outcome::error(508, "draining");
  RelayEndpoint* ep = nullptr;
  if (Outcome o = checkAllocateRequest(req, ep); o.kind != Outcome::Kind::Success) return o;
  auto a = std::make_unique<Allocation>();
  a->id = deps_.worker.allocationId(nextId_++);
  a->sendTargets.reseed(deps_.rng.u64());
  a->tcp = req.msg.requestedTransport() == kProtoTcp;
  if (Outcome o = reserveQuota(req, *a); o.kind != Outcome::Kind::Success) return o;
  std::optional<uint64_t> token;
  if (Outcome o = openRelay(req, ep, *a, token); o.kind != Outcome::Kind::Success) {
    releaseQuota(*a);
    return o;
  }
  a->tuple = req.tuple;
  a->username = req.auth.username;
  a->user = req.auth.user;
  a->key = req.auth.key;
  a->advertised = SocketAddress{ep->advertised, a->relayed.port};
  int additionalError = 0;
  if (req.msg.find(stun::attr::AdditionalAddressFamily)) additionalError = openAdditionalRelay(req, *a);
  a->created = req.now;
  const Duration life = grantedLifetime(req.msg);
  a->expires = req.now + life;
  a->allocateTxn = req.msg.transactionId();
  a->allocateAnswer = allocateAttrs(req, *a, life, token, additionalError);
  Allocation& stored = table_.insert(std::move(a));
  deps_.events.onAllocationCreated(stored);
  return Outcome::success(stored.allocateAnswer);
}

ResponseAttrs TurnServer::allocateAttrs(const Request& req, const Allocation& a, Duration life,
                                        std::optional<uint64_t> token, int additionalError) const {
  ResponseAttrs attrs;
  attrs.relayed = a.advertised;
  addAdditionalRelayed(attrs, a, additionalError);
  attrs.lifetime = static_cast<uint32_t>(life.count() / 1000);
  attrs.reservationToken = token;
  attrs.mapped = req.tuple.client;
  return attrs;
}

}  // namespace tw::turn
