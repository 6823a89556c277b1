// Lowering a quota on reload against the live binary (issue 4: "reloading
// changes nothing else for live allocations"): allocations already over the
// new quota keep refreshing and relaying; new Allocates get 486 until the
// user is under the new quota, then succeed.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>

#include "policy/credentials.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "quotaquotaquotaquotaquotaquota00";

std::string config(uint16_t port, uint16_t peerPort, int perUser) {
  return testing::udpListenerYaml("quota.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 45000-45999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerPort) +
         "}]\n"
         "quotas: {per_user: " +
         std::to_string(perUser) + "}\n";
}

/// per_user counts one credential from one address: each user name is
/// minted once per test, so every client of "alice" holds the same one.
StunClient authed(uint16_t port, const std::string& user) {
  static std::map<std::string, std::string> minted;
  auto [it, fresh] = minted.try_emplace(user, testing::restName(user));
  return testing::restClientNamed(SocketAddress{IpAddress::v4(127, 0, 0, 1), port}, kSecret, it->second);
}

}  // namespace

TEST_CASE("Lowering per_user on reload keeps live allocations, new ones wait until under it") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, 3));
  REQUIRE(s.ready());
  std::vector<StunClient> live;
  for (int i = 0; i < 3; ++i) {
    live.push_back(authed(port, "alice"));
    REQUIRE(live.back().allocate()->code == 0);
    REQUIRE(live.back().createPermission(peer.addr)->code == 0);
  }
  CHECK(authed(port, "alice").allocate()->code == 486);  // at the old quota

  REQUIRE(testing::reloadWith(s, config(port, peer.addr.port, 1), "reload ok"));
  // Three live allocations over the new quota of one: untouched.
  for (StunClient& c : live) {
    CHECK(c.refresh(600)->code == 0);
    c.sendIndication(peer.addr, std::vector<uint8_t>(20, 1));
  }
  CHECK(peer.count() == 3);
  CHECK(authed(port, "bob").allocate()->code == 0);  // quotas are per user

  // alice gets 486 while she holds 3, 2 and 1 allocations (1 is not under 1)...
  for (int remaining = 3; remaining >= 1; --remaining) {
    INFO("alice holds " << remaining);
    CHECK(authed(port, "alice").allocate()->code == 486);
    REQUIRE(live[static_cast<size_t>(remaining - 1)].refresh(0)->code == 0);  // ends one
  }
  // ...and succeeds once she holds none: under the new quota again.
  StunClient again = authed(port, "alice");
  CHECK(again.allocate()->code == 0);
  CHECK(authed(port, "alice").allocate()->code == 486);  // the new quota holds
  CHECK(s.alive());
}
