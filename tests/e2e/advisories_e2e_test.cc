// Public TURN advisories that no other test covered, against the live binary
// (docs/security.md maps every advisory to its tests):
//  - LiveKit's non-expiring TURN credentials: a REST credential must stop
//    working at its expiry, for new allocations and for the live one's
//    requests, and a credential minted for decades must be refused;
//  - the mobility quota bypass fixed in coturn 4.17.0: turnwarden does not
//    implement MOBILITY-TICKET (RFC 8016), so the attribute is ignored and no
//    allocation moves to, or multiplies on, another 5-tuple past the quota.
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "advisoriesadvisoriesadvisories01";
constexpr uint16_t kMobilityTicket = 0x8030;  // RFC 8016, comprehension-optional

std::string config(uint16_t port) {
  return testing::udpListenerYaml("advisories.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 49400-49499\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         std::string(kSecret) +
         "\"}]\n"
         "  max_ttl: 1h\n  clock_skew: 0s\n"
         "peers:\n  allowed: [127.0.0.1/32]\n"
         "quotas:\n  per_user: 1\n";
}

/// A client whose REST username expires at `expiry` (unix seconds).
StunClient clientExpiringAt(const SocketAddress& server, int64_t expiry, const std::string& user) {
  StunClient c(server);
  const std::string name = std::to_string(expiry) + ":" + user;
  c.setCredentials(name, policy::restPassword(kSecret, name));
  return c;
}

struct Live {
  uint16_t port = testing::freeUdpPort();
  ServerProcess server{config(port)};
  SocketAddress addr{IpAddress::v4(127, 0, 0, 1), port};
};

}  // namespace

TEST_CASE(
    "advisory LiveKit non-expiring credentials: REST credentials stop at their expiry, live allocation "
    "included") {
  Live live;
  REQUIRE(live.server.ready());
  const int64_t now = std::time(nullptr);
  // What a "never expires" credential looks like: decades ahead. Over max_ttl: 401.
  auto forever = clientExpiringAt(live.addr, now + 100LL * 365 * 86400, "forever");
  auto refused = forever.allocate();
  REQUIRE(refused);
  CHECK(refused->code == 401);

  const int64_t expiry = now + 3;
  auto c = clientExpiringAt(live.addr, expiry, "alice");
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  const SocketAddress peer{IpAddress::v4(127, 0, 0, 1), 9};
  auto perm = c.createPermission(peer);
  REQUIRE(perm);
  CHECK(perm->code == 0);

  // Past the expiry (clock_skew 0s): every request of the live allocation is refused.
  while (std::time(nullptr) <= expiry + 1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto refresh = c.refresh(600);
  REQUIRE(refresh);
  CHECK(refresh->code == 401);
  auto perm2 = c.createPermission(peer);
  REQUIRE(perm2);
  CHECK(perm2->code == 401);
  auto late = clientExpiringAt(live.addr, expiry, "alice");
  auto lateAlloc = late.allocate();
  REQUIRE(lateAlloc);
  CHECK(lateAlloc->code == 401);
  CHECK(live.server.stop() == 0);
}

TEST_CASE("advisory coturn 4.17 mobility quota bypass: MOBILITY-TICKET moves and multiplies nothing") {
  Live live;
  REQUIRE(live.server.ready());
  const int64_t expiry = std::time(nullptr) + 600;
  const std::vector<uint8_t> ticket(32, 0xA5);
  auto withTicket = [&](stun::MessageBuilder& b) { b.addBytes(kMobilityTicket, ticket); };

  auto a = clientExpiringAt(live.addr, expiry, "mobile");
  auto first = a.allocate([&](stun::MessageBuilder& b) { b.addBytes(kMobilityTicket, {}); });
  REQUIRE(first);
  REQUIRE(first->code == 0);
  CHECK(first->msg().find(kMobilityTicket) == nullptr);  // no ticket is ever issued

  // The same user from another 5-tuple, presenting a ticket: per_user 1 holds.
  auto b = clientExpiringAt(live.addr, expiry, "mobile");
  auto second = b.allocate(withTicket);
  REQUIRE(second);
  CHECK(second->code == 486);
  // A Refresh with a ticket from the new 5-tuple does not move the allocation there.
  auto moved = b.request(stun::Method::Refresh, withTicket);
  REQUIRE(moved);
  CHECK(moved->code == 437);
  // The original allocation is untouched, and its deletion frees the quota.
  auto stay = a.refresh(600);
  REQUIRE(stay);
  CHECK(stay->code == 0);
  auto gone = a.refresh(0);
  REQUIRE(gone);
  CHECK(gone->code == 0);
  auto third = b.allocate(withTicket);
  REQUIRE(third);
  CHECK(third->code == 0);
  CHECK(live.server.stop() == 0);
}
