// Multi-tenant realms against the live binary (issue 4, "peer rules can be
// scoped to a realm"): two UDP listeners serving realms a.example and
// b.example, and a loopback peer allowed only in realm a.example.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

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

constexpr const char* kSecret = "realmsrealmsrealmsrealmsrealms00";

std::string config(uint16_t portA, uint16_t portB, uint16_t peerPort) {
  const std::string a = std::to_string(portA), b = std::to_string(portB);
  return "realm: b.example\n"
         "workers: 2\n"
         "listeners:\n"
         "  - {transport: udp, address: 127.0.0.1, port: " +
         a +
         ", realm: a.example}\n"
         "  - {transport: udp, address: 127.0.0.1, port: " +
         b +
         "}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 46000-46999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         // Both realms accept the one keyring: the operator says so (tenants_e2e_test.cc
         // gives each realm its own).
         "  realms:\n    a.example: {use_global_keyring: true}\n"
         "peers:\n  realms:\n    a.example:\n"
         "      allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerPort) + "}]\n";
}

StunClient authed(uint16_t port, const std::string& user) { return testing::restClient(port, kSecret, user); }

}  // namespace

TEST_CASE("A loopback peer allowed in realm A only: A relays to it, B gets 403") {
  const uint16_t portA = testing::freeUdpPort();
  uint16_t portB = testing::freeUdpPort();
  while (portB == portA) portB = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(portA, portB, peer.addr.port));
  REQUIRE(s.ready());

  StunClient onA = authed(portA, "alice"), onB = authed(portB, "bob");
  REQUIRE(onA.allocate()->code == 0);
  REQUIRE(onB.allocate()->code == 0);
  CHECK(onA.realm() == "a.example");  // each listener challenges with its realm
  CHECK(onB.realm() == "b.example");

  CHECK(onA.createPermission(peer.addr)->code == 0);
  CHECK(onB.createPermission(peer.addr)->code == 403);
  for (int i = 0; i < 3; ++i) onA.sendIndication(peer.addr, std::vector<uint8_t>(20, 0xa));
  CHECK(peer.count() == 3);  // data really reaches the peer from realm A
  for (int i = 0; i < 3; ++i) onB.sendIndication(peer.addr, std::vector<uint8_t>(20, 0xb));
  CHECK(peer.count() == 0);                                         // and never from realm B
  CHECK(s.log().find("builtin:loopback-v4") != std::string::npos);  // B's denial names the rule
  CHECK(s.alive());
}

TEST_CASE("check-config accepts realms and refuses a realm no listener serves") {
  char tmpl[] = "/tmp/tw-realms-e2e.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl, good = dir + "/good.yaml", bad = dir + "/bad.yaml";
  std::string text = config(3478, 3479, 9000);
  std::ofstream(good) << text;
  const std::string used = "    a.example:\n      allowed";
  text.replace(text.find(used), used.size(), "    c.example:\n      allowed");
  std::ofstream(bad) << text;
  const std::string bin = TW_BINARY;
  CHECK(std::system((bin + " check-config " + good + " > /dev/null 2>&1").c_str()) == 0);
  CHECK(std::system((bin + " check-config " + bad + " > " + dir + "/bad.out 2>&1").c_str()) != 0);
  std::stringstream out;
  out << std::ifstream(dir + "/bad.out").rdbuf();
  CHECK_THAT(out.str(), Catch::Contains("bad.yaml:15:5: peers.realms: realm 'c.example' is not the "
                                        "realm of any listener nor the top-level realm"));
  std::filesystem::remove_all(dir);
}
