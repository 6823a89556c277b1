// Dual-stack allocations (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 §7.2) and IPv6
// relaying on real loopback sockets (127.0.0.1 and ::1).
#include <catch2/catch.hpp>

#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::StunClient;

namespace {

const std::string kAllowLoopback = "peers:\n  allowed: [127.0.0.1/32, \"::1/128\"]\n";

std::vector<SocketAddress> relayedAddresses(const testing::Reply& r) {
  const stun::Message m = r.msg();
  std::vector<SocketAddress> out;
  for (const auto& a : m.attributes())
    if (a.type == stun::attr::XorRelayedAddress) out.push_back(*m.xorAddress(a));
  return out;
}

void addAdditional(stun::MessageBuilder& b, uint8_t family) {
  b.addAddressFamily(stun::attr::AdditionalAddressFamily, family);
}

}  // namespace

TEST_CASE("dual allocation: IPv4 and IPv6 relayed addresses, both families relay") {
  Harness h(kAllowLoopback);
  const uint16_t first = h.config.relay.portMin;
  h.relays.add(*IpAddress::parse("::1"), *IpAddress::parse("::1"), first, h.config.relay.portMax);
  StunClient c = h.authedClient();
  auto r = c.allocate([](stun::MessageBuilder& b) { addAdditional(b, 0x02); });
  REQUIRE(r);
  REQUIRE(r->code == 0);
  const auto relayed = relayedAddresses(*r);
  REQUIRE(relayed.size() == 2);
  CHECK(relayed[0].ip.isV4());
  CHECK_FALSE(relayed[1].ip.isV4());
  CHECK_FALSE(r->msg().find(stun::attr::AddressErrorCode));

  testing::UdpPeer p4;
  testing::UdpPeer p6("[::1]:0");
  REQUIRE(c.createPermission(p4.addr)->code == 0);
  REQUIRE(c.createPermission(p6.addr)->code == 0);
  const std::vector<uint8_t> hi{'h', 'i'};
  c.sendIndication(p6.addr, hi);
  auto at6 = p6.receive(h);
  REQUIRE(at6);
  CHECK(*at6 == hi);
  c.sendIndication(p4.addr, hi);
  CHECK(p4.receive(h) == hi);

  // Deleting the allocation frees both ports.
  REQUIRE(c.refresh(0)->code == 0);
  for (auto& e : h.relays.endpoints()) CHECK(e.pool->inUse() == 0);
}

TEST_CASE("dual allocation: no IPv6 relay -> IPv4 only, with ADDRESS-ERROR-CODE 440") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  auto r = c.allocate([](stun::MessageBuilder& b) { addAdditional(b, 0x02); });
  REQUIRE(r);
  REQUIRE(r->code == 0);
  CHECK(relayedAddresses(*r).size() == 1);
  const stun::Message m = r->msg();
  const auto* aec = m.find(stun::attr::AddressErrorCode);
  REQUIRE(aec);
  const auto v = m.value(*aec);
  REQUIRE(v.size() >= 4);
  CHECK(v[0] == 0x02);
  CHECK(v[2] * 100 + v[3] == 440);
  // An IPv6 peer on an IPv4-only allocation is a family mismatch.
  CHECK(c.createPermission(*SocketAddress::parse("[::1]:5000"))->code == 443);
}

TEST_CASE("dual allocation: IPv4 as the additional family, or with a token, is a 400") {
  Harness h(kAllowLoopback);
  StunClient c = h.authedClient();
  CHECK(c.allocate([](stun::MessageBuilder& b) { addAdditional(b, 0x01); })->code == 400);
  CHECK(c.allocate([](stun::MessageBuilder& b) {
           addAdditional(b, 0x02);
           b.addU64(stun::attr::ReservationToken, 42);
         })->code == 400);
}
