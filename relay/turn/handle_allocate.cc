// Allocate (RFC 8656 §7.2, RFC 6062 §5.1): vet the attributes, take a
// quota, bind a relay port from the pool, and store the allocation with the
// answer that a retransmission gets again.
#include "relay/turn/handle_allocate.h"

namespace tw::turn {

namespace {
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoTcp = 6;  // RFC 6062
constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr int kBindAttempts = 16;

bool isStream(Transport t) { return t == Transport::Tcp || t == Transport::Tls; }

Duration grantedLifetime(const RequestContext& req) {
  // RFC 8656 §7.2: min(requested, max), but never below the default.
  const auto& lim = req.policy.limits;
  const Duration def = std::min(lim.defaultLifetime, lim.maxLifetime);
  auto requested = req.msg.lifetime();
  if (!requested) return def;
  const Duration asked = std::chrono::seconds(*requested);
  return std::max(def, std::min(asked, lim.maxLifetime));
}

Outcome checkTcpAllocate(const RequestContext& req) {
  // RFC 6062 §5.1: a TCP allocation needs a TCP or TLS control connection,
  // and has no use for the UDP-only attributes.
  const stun::Message& m = req.msg;
  if (!isStream(req.tuple.transport)) return Outcome::error(400, "tcp_allocation_over_udp");
  if (m.find(stun::attr::EvenPort) || m.find(stun::attr::ReservationToken) || m.dontFragment())
    return Outcome::error(400, "udp_attribute_in_tcp_allocation");
  if (m.find(stun::attr::AdditionalAddressFamily)) return Outcome::error(400, "dual_tcp_allocation");
  return Outcome::success();
}

Outcome checkTransport(const RequestContext& req) {
  auto transport = req.msg.requestedTransport();
  if (!transport) return Outcome::error(400, "missing_requested_transport");
  if (*transport != kProtoUdp && *transport != kProtoTcp) return Outcome::error(442, "unsupported_transport");
  if (*transport != kProtoTcp) return Outcome::success();
  if (!req.policy.tcpRelay) return Outcome::error(442, "tcp_relay_disabled");  // relay.tcp: false
  return checkTcpAllocate(req);
}

Outcome checkAllocateRequest(const RequestContext& req, RelayAddresses& relays, RelayEndpoint*& endpoint) {
  const stun::Message& m = req.msg;
  if (Outcome o = checkTransport(req); o.kind != Outcome::Kind::Success) return o;
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
  endpoint = relays.forFamily(fam == kFamilyV4 ? Family::V4 : Family::V6);
  if (!endpoint) return Outcome::error(440, "family_not_supported");
  return Outcome::success();
}

Result<RelayHandle, int> openRelaySocket(IoPort& io, const Allocation& a, const SocketAddress& local) {
  return a.tcp ? io.openTcpRelay(local, a.id) : io.openUdpRelay(local, a.id);
}

Outcome openReserved(const RequestContext& req, AllocateDeps& d, uint64_t token, RelayEndpoint*& ep,
                     Allocation& a) {
  // The token names its pool, which may be another family's: an Allocate
  // with RESERVATION-TOKEN carries no family (RFC 8656 §7.2), so the pair of
  // an IPv6 EVEN-PORT allocation is found by the token alone.
  for (auto& e : d.relays.endpoints()) {
    auto port = e.pool->redeem(token, req.now);
    if (!port) continue;
    ep = &e;
    a.relayed = SocketAddress{e.bind, *port};
    auto h = openRelaySocket(d.io, a, a.relayed);
    if (!h) {
      e.pool->release(*port);
      return Outcome::error(508, "relay_bind_failed");
    }
    a.relay = h.value();
    return Outcome::success();
  }
  return Outcome::error(508, "bad_reservation_token");
}

Outcome openRelay(const RequestContext& req, AllocateDeps& d, RelayEndpoint*& epRef, Allocation& a,
                  std::optional<uint64_t>& token) {
  if (auto t = req.msg.reservationToken()) return openReserved(req, d, *t, epRef, a);
  RelayEndpoint& ep = *epRef;
  PortPool& pool = *ep.pool;
  const auto even = req.msg.evenPort();
  for (int i = 0; i < kBindAttempts; ++i) {
    auto lease = pool.acquire(d.rng, even.has_value(), even && even->reserve, req.now);
    if (!lease) return Outcome::error(508, "port_pool_exhausted");
    a.relayed = SocketAddress{ep.bind, lease->port};
    auto h = openRelaySocket(d.io, a, a.relayed);
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

Outcome reserveQuota(const RequestContext& req, QuotaBook& quotas, Allocation& a) {
  a.tuple = req.tuple;
  a.user = req.auth.user;
  a.realm = req.policy.realmFor(req.tuple);  // selects peers.realms rules for its life
  const uint64_t bps = req.policy.quotas.maxBps;
  a.username = req.auth.username;
  if (Outcome o = admitAllocation(req, quotas); !o.ok()) return o;  // 486
  a.reservedBps = bps;
  return Outcome::success();
}

ResponseAttrs allocateAttrs(const RequestContext& req, const Allocation& a, Duration life,
                            std::optional<uint64_t> token, int additionalError) {
  ResponseAttrs attrs;
  attrs.relayed = a.advertised;
  addAdditionalRelayed(attrs, a, additionalError);
  attrs.lifetime = static_cast<uint32_t>(life.count() / 1000);
  attrs.reservationToken = token;
  attrs.mapped = req.tuple.client;
  return attrs;
}

/// RFC 8656 §7.2 step 1: a retransmission gets the same answer.
Outcome replay(const RequestContext& req) {
  if (req.alloc->allocateTxn != req.msg.transactionId()) return Outcome::error(437, "allocation_mismatch");
  if (req.alloc->username != req.auth.username) return Outcome::error(441, "wrong_credentials");
  return Outcome::success(req.alloc->allocateAnswer);
}

/// Fills in the allocation once its relay is open, and stores it.
Allocation& store(const RequestContext& req, AllocateDeps& d, std::unique_ptr<Allocation> a,
                  const RelayEndpoint& ep, std::optional<uint64_t> token) {
  a->key = req.auth.key;
  a->advertised = SocketAddress{ep.advertised, a->relayed.port};
  int additionalError = 0;
  if (req.msg.find(stun::attr::AdditionalAddressFamily)) additionalError = openAdditionalRelay(req, d, *a);
  a->created = req.now;
  const Duration life = grantedLifetime(req);
  a->expires = req.now + life;
  a->allocateTxn = req.msg.transactionId();
  a->allocateAnswer = allocateAttrs(req, *a, life, token, additionalError);
  return d.table.insert(std::move(a));
}
}  // namespace

Outcome handleAllocate(const RequestContext& req, AllocateDeps& d) {
  if (req.alloc) return replay(req);
  // Draining (rolling restart): live allocations stay, new ones go elsewhere.
  if (d.draining) return Outcome::error(508, "draining");
  RelayEndpoint* ep = nullptr;
  if (Outcome o = checkAllocateRequest(req, d.relays, ep); o.kind != Outcome::Kind::Success) return o;
  auto a = std::make_unique<Allocation>();
  a->id = d.ids.take();
  a->tcp = req.msg.requestedTransport() == kProtoTcp;
  if (Outcome o = reserveQuota(req, d.quotas, *a); o.kind != Outcome::Kind::Success) return o;
  std::optional<uint64_t> token;
  if (Outcome o = openRelay(req, d, ep, *a, token); o.kind != Outcome::Kind::Success) {
    d.quotas.release(a->username, a->tuple.client.ip, a->reservedBps);
    return o;
  }
  return Outcome::success(store(req, d, std::move(a), *ep, token).allocateAnswer)
      .with(Event::Kind::AllocationCreated);
}

}  // namespace tw::turn
