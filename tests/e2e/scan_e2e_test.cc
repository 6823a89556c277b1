// Port scanning through the live relay (threats.md: "Port scanning through
// the relay"): Send indications to many ports of one permitted host, and
// Connects (RFC 6062) to many ports, each raise one relay_scan anomaly in
// /metrics and in the security event log. Every destination is a socket
// this test bound on 127.0.0.1, so no datagram or SYN reaches anyone else.
#include <catch2/catch.hpp>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/raw_tcp.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::PeerListener;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "scanscanscanscanscanscanscanscan";
constexpr int kThreshold = 10;
const std::string kRelayScan = R"(turnwarden_anomalies_total{kind="relay_scan"})";

std::string config(uint16_t port) {
  return testing::udpListenerYaml("scan.test", port) +
         "  - {transport: tcp, address: 127.0.0.1, port: " + std::to_string(port) +
         "}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47200-47299\n  tcp: true\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [127.0.0.1/32]\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "anomalies:\n  scan_distinct_peers: " +
         std::to_string(kThreshold) + "\n";
}

/// The value of `series` in a /metrics scrape (0 when absent).
double scraped(const SocketAddress& metrics, const std::string& series) {
  auto r = testing::httpGet(metrics, "/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const size_t at = r->body.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(r->body.substr(at + series.size() + 2));
}

/// Scrapes until relay_scan reaches `want` (the sampler runs once a second); bounded.
double waitForScans(const SocketAddress& metrics, double want) {
  double v = scraped(metrics, kRelayScan);
  for (int i = 0; i < 100 && v < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    v = scraped(metrics, kRelayScan);
  }
  return v;
}

/// The live binary with the scan config; its /metrics starts at no relay_scan.
struct Live {
  Live() : port(testing::freeUdpPort()), server(config(port)) {
    REQUIRE(server.ready());
    auto at = testing::servedAddress(server.log(), "metrics");
    REQUIRE(at);
    metrics = *at;
    CHECK(scraped(metrics, kRelayScan) == 0);
  }
  /// Waits for one relay_scan, checks that no second follows, stops the
  /// server and returns its log (the security event log is on stderr).
  std::string oneScanThenLog() {
    CHECK(waitForScans(metrics, 1) == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a sample or more later
    CHECK(scraped(metrics, kRelayScan) == 1);                      // once per allocation and window
    REQUIRE(server.stop() == 0);
    return server.log();
  }
  uint16_t port;
  ServerProcess server;
  SocketAddress metrics;
};

}  // namespace

TEST_CASE("live: Send indications to many ports of one permitted host raise one relay_scan") {
  Live live;

  StunClient client = testing::restClient(live.port, kSecret, "udpscanner");
  auto alloc = client.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  // The targets: plain UDP sockets on 127.0.0.1, all ports of one host.
  std::vector<std::unique_ptr<StunClient>> ports;
  for (int i = 0; i < kThreshold + 2; ++i) ports.push_back(std::make_unique<StunClient>(relayed));
  REQUIRE(client.createPermission(ports[0]->local())->code == 0);  // one permission: per IP

  // Below the threshold: the same port many times is one destination.
  const std::vector<uint8_t> probe{'s', 'c', 'a', 'n'};
  for (int i = 0; i < 20; ++i) {
    client.sendIndication(ports[0]->local(), probe);
    REQUIRE(ports[0]->receive(2000));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // at least one sample
  CHECK(scraped(live.metrics, kRelayScan) == 0);

  for (auto& p : ports) {
    client.sendIndication(p->local(), probe);
    REQUIRE(p->receive(2000));  // relayed: the permission covers every port
  }
  const std::string log = live.oneScanThenLog();
  INFO(log);
  // threshold..threshold+2 counted, depending on when the sample ran (a hash
  // collision would count one less).
  const std::regex event(
      R"re("type":"anomaly","severity":"warning","user":"udpscanner","client_ip":"127\.0\.0\.1",)re"
      R"re("peer":"127\.0\.0\.1:\d+","rule":"relay_scan","details":"1[0-2] distinct Send )re"
      R"re(destinations from one allocation within 60s")re");
  CHECK(std::regex_search(log, event));
}

TEST_CASE("live: Connects to many ports from one TCP allocation raise one relay_scan") {
  Live live;

  StunClient control = StunClient::tcp(SocketAddress{IpAddress::v4(127, 0, 0, 1), live.port});
  const std::string name = std::to_string(std::time(nullptr) + 3600) + ":tcpscanner";
  control.setCredentials(name, policy::restPassword(kSecret, name));
  REQUIRE(control.allocateTcp()->code == 0);
  std::vector<std::unique_ptr<PeerListener>> ports;
  for (int i = 0; i < kThreshold; ++i) ports.push_back(std::make_unique<PeerListener>("127.0.0.1:0"));
  // Each attempt counts before the rules and limits decide (10 < the limits here).
  for (auto& p : ports) CHECK(control.connect(p->addr)->code == 0);
  CHECK(control.connect(ports[0]->addr)->code == 446);  // a second Connect to a known peer
  const std::string log = live.oneScanThenLog();
  INFO(log);
  const std::regex event(
      R"re("type":"anomaly","severity":"warning","user":"tcpscanner","client_ip":"127\.0\.0\.1",)re"
      R"re("peer":"127\.0\.0\.1:\d+","rule":"relay_scan","details":"10 distinct peers from one )re"
      R"re(allocation within 60s")re");
  CHECK(std::regex_search(log, event));
}
