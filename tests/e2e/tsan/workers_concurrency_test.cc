// The concurrency test of the multi-worker server (issue 9), meant to run on
// a ThreadSanitizer build (-DTW_TSAN=ON, `ctest -L tsan`): 100 reloads and
// 100 keyring rotations while UDP and TCP traffic flows through 2 workers.
// The server must keep relaying, stop cleanly, and (under TSan) report no
// data race: a report makes the sanitizer print "WARNING: ThreadSanitizer"
// and exit non-zero. On an ordinary build it is a plain stress test.
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "policy/secrets_file.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

/// Two variants of every reloadable section, so each reload changes the snapshot.
std::string config(uint16_t port, uint16_t peerPort, int variant) {
  const std::string v = std::to_string(variant);
  return testing::udpListenerYaml("concurrency.test", port) +
         "  - {transport: tcp, address: 127.0.0.1, port: " + std::to_string(port) +
         "}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 43000-43999\n"
         "auth:\n  secrets_file: secrets.yaml\n  max_ttl: 1h\n"
         "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerPort) +
         "}]\n"
         "quotas: {per_user: " +
         std::to_string(50 + variant) +
         "}\n"
         "transports: {idle_timeout: " +
         std::to_string(30 + variant) +
         "s}\n"
         "anomalies: {scan_distinct_peers: " +
         std::to_string(20 + variant) +
         "}\n"
         "metrics:\n  listen: 127.0.0.1:0\n";
}

bool waitFor(ServerProcess& s, const std::string& marker, size_t count) {
  for (int i = 0; i < 1000; ++i) {
    if (testing::occurrences(s.log(), marker) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("100 reloads and 100 rotations while traffic flows on 2 workers") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, 0));
  REQUIRE(s.ready());
  auto secrets = policy::loadSecretsFile(s.dir() + "/secrets.yaml");
  REQUIRE(secrets.ok());
  const std::string secret = secrets.value().front().value;
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), port};

  std::vector<StunClient> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(testing::restClient(server, secret, "udp" + std::to_string(i)));
    REQUIRE(clients.back().allocate()->code == 0);
    REQUIRE(clients.back().createPermission(peer.addr)->code == 0);
  }
  StunClient tcp = StunClient::tcp(server);
  const std::string name = std::to_string(std::time(nullptr) + 3600) + ":tcp";
  tcp.setCredentials(name, policy::restPassword(secret, name));
  REQUIRE(tcp.allocate()->code == 0);
  REQUIRE(tcp.createPermission(peer.addr)->code == 0);

  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread traffic([&] {
    const std::vector<uint8_t> payload(160, 0x5a);
    const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(4);
    while (!stop && std::chrono::steady_clock::now() < until) {
      for (StunClient& c : clients) c.sendIndication(peer.addr, payload);
      tcp.sendIndication(peer.addr, payload);
      sent += 5;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  int received = 0;
  for (int i = 1; i <= 100; ++i) {
    INFO("round " << i);
    REQUIRE(testing::reloadWith(s, config(port, peer.addr.port, i % 2), "reload ok"));
    ::kill(s.pid(), SIGUSR2);
    REQUIRE(waitFor(s, "keyring rotated (SIGUSR2)", static_cast<size_t>(i)));
    received += peer.count(10);  // drains the peer socket before it overflows
  }
  stop = true;
  traffic.join();
  received += peer.count(300);
  INFO("sent " << sent << ", received " << received);
  CHECK(received > sent / 2);  // loopback loses little; the relay kept working throughout
  // The newest secret authenticates on whichever worker a new client lands.
  auto now = policy::loadSecretsFile(s.dir() + "/secrets.yaml");
  REQUIRE(now.ok());
  CHECK(testing::restClient(server, now.value().front().value, "late").allocate()->code == 0);
  CHECK(s.stop() == 0);
  CHECK(s.log().find("ThreadSanitizer") == std::string::npos);
}
