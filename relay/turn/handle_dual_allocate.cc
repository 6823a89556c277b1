// Dual-stack allocations (RFC 8656 §7.2): an Allocate carrying
// ADDITIONAL-ADDRESS-FAMILY (IPv6) gets an IPv4 relayed address and, next to
// it, an IPv6 one. The response then carries XOR-RELAYED-ADDRESS twice, or,
// when the IPv6 address cannot be allocated, the IPv4 one plus
// ADDRESS-ERROR-CODE naming the family that failed:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Family       |    Rsvd             |Class|     Number        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |      Reason Phrase (variable)                                ..
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#include <string_view>
#include <vector>

#include "relay/turn/handle_allocate.h"

namespace tw::turn {

namespace {
constexpr uint8_t kFamilyV6 = 0x02;
constexpr int kAdditionalAttempts = 16;
}  // namespace

Outcome checkAdditionalFamily(const stun::Message& m) {
  const stun::RawAttribute* attr = m.find(stun::attr::AdditionalAddressFamily);
  if (!attr) return Outcome::success();
  const auto v = m.value(*attr);
  // RFC 8656 §7.2: only IPv6 may be the additional family; 0x01 is a 400.
  if (v.size() != 4 || v[0] != kFamilyV6) return Outcome::error(400, "bad_additional_family");
  if (m.find(stun::attr::ReservationToken)) return Outcome::error(400, "family_with_token");
  return Outcome::success();
}

int openAdditionalRelay(const RequestContext& req, AllocateDeps& d, Allocation& a) {
  RelayEndpoint* ep = d.relays.forFamily(Family::V6);
  if (!ep) return 440;
  for (int i = 0; i < kAdditionalAttempts; ++i) {
    auto lease = ep->pool->acquire(d.rng, false, false, req.now);
    if (!lease) return 508;
    const SocketAddress local{ep->bind, lease->port};
    auto h = d.io.openUdpRelay(local, a.id);
    if (h) {
      a.relayed2 = local;
      a.advertised2 = SocketAddress{ep->advertised, lease->port};
      a.relay2 = h.value();
      return 0;
    }
    ep->pool->release(lease->port);
    ep->pool->quarantine(lease->port, req.now + std::chrono::minutes(1));
  }
  return 508;
}

void addAdditionalRelayed(ResponseAttrs& attrs, const Allocation& a, int error) {
  if (a.relay2 != kNoRelay) {
    attrs.relayed2 = a.advertised2;
    return;
  }
  if (error == 0) return;
  const std::string_view reason = error == 440 ? "Address Family not Supported" : "Insufficient Capacity";
  std::vector<uint8_t> v{kFamilyV6, 0, static_cast<uint8_t>(error / 100), static_cast<uint8_t>(error % 100)};
  v.insert(v.end(), reason.begin(), reason.end());
  attrs.addressError = std::move(v);
}

}  // namespace tw::turn
