// /metrics of the live binary: cause conditions (bad passwords, denied peers,
// relaying while the allocation stays live), scrape, and check that each
// counter moved by exactly the expected amount; then lint the scrape with
// Debian's promtool.
#include <catch2/catch.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "metricsmetricsmetricsmetrics0123";

/// `moreListeners`: extra entries of the listeners list ("  - {...}\n").
std::string config(uint16_t port, const std::string& moreListeners = "") {
  return testing::udpListenerYaml("metrics.test", port) + moreListeners +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47000-47199\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [127.0.0.1/32]\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "anomalies:\n  brute_force_failures: 3\n  denied_peer_burst: 2\n"
         "  scan_distinct_peers: 3\n  max_bps: 1000\n";
}

/// The metrics address the server logged ("metrics: serving http://A/metrics").
std::optional<SocketAddress> metricsAddress(const std::string& log) {
  return testing::servedAddress(log, "metrics");
}

/// series (name{labels} exactly as rendered) -> value.
using Scrape = std::map<std::string, double>;

Scrape parse(const std::string& text) {
  Scrape s;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    s[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return s;
}

double value(const Scrape& s, const std::string& series) {
  auto it = s.find(series);
  return it == s.end() ? 0 : it->second;
}

/// Sum of every series of `family` (all label values).
double familySum(const Scrape& s, const std::string& family) {
  double sum = 0;
  for (const auto& [k, v] : s)
    if (k.rfind(family + "{", 0) == 0) sum += v;
  return sum;
}

std::string restUser(const std::string& name) {
  return std::to_string(std::time(nullptr) + 3600) + ":" + name;
}

std::vector<uint8_t> payload(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

const std::string kBytesToPeer =
    R"(turnwarden_relayed_bytes_total{direction="client_to_peer",transport="udp"})";
const std::string kBytesToClient =
    R"(turnwarden_relayed_bytes_total{direction="peer_to_client",transport="udp"})";
const std::string kBadIntegrity = R"(turnwarden_auth_failures_total{reason="bad_integrity"})";
const std::string kActive = R"(turnwarden_allocations_active{family="ipv4",transport="udp"})";

struct Live {
  SocketAddress at;
  std::string raw;
  Scrape scrape() {
    auto r = testing::httpGet(at, "/metrics");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    raw = r->body;
    return parse(r->body);
  }
  /// Scrapes until `done` holds (the fold runs once a second); bounded.
  Scrape until(const std::function<bool(const Scrape&)>& done) {
    Scrape s = scrape();
    for (int i = 0; i < 100 && !done(s); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      s = scrape();
    }
    return s;
  }
};

}  // namespace

TEST_CASE("live /metrics: counters move by exactly what the test caused, promtool is silent") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(config(port));
  REQUIRE(server.ready());
  auto at = metricsAddress(server.log());
  REQUIRE(at);
  Live live{*at, {}};
  CHECK(testing::httpGet(*at, "/readyz")->status == 200);
  const Scrape before = live.scrape();
  const SocketAddress turn = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));

  // Three clients with a wrong password: each is challenged, answers once
  // with the wrong key and gets one bad_integrity.
  for (int i = 0; i < 3; ++i) {
    StunClient bad(turn);
    bad.setCredentials(restUser("mallory"), "not-the-password");
    REQUIRE(bad.allocate()->code == 401);
  }

  StunClient good(turn);
  const std::string user = restUser("alice");
  good.setCredentials(user, policy::restPassword(kSecret, user));
  auto alloc = good.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  // Two denied peers (loopback other than the allowed /32, and RFC 1918).
  REQUIRE(good.createPermission(*SocketAddress::parse("127.0.0.2:9"))->code == 403);
  REQUIRE(good.createPermission(*SocketAddress::parse("10.1.2.3:9"))->code == 403);

  StunClient peer(relayed);  // a plain UDP socket on loopback, acting as the peer
  REQUIRE(good.createPermission(peer.local())->code == 0);
  // Let the once-a-second sampler record this allocation's byte baseline, so
  // the burst below is a rate (4000+ bit/s > max_bps 1000): a bandwidth spike.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  for (int i = 0; i < 5; ++i) {
    good.sendIndication(peer.local(), payload(100, uint8_t(i)));
    REQUIRE(peer.receive(2000));
  }
  for (int i = 0; i < 3; ++i) {
    peer.send(payload(64, 0xAB));
    REQUIRE(good.receive(2000));
  }

  // The allocation is still live: relayed bytes must already show.
  const Scrape after = live.until([&](const Scrape& s) {
    return value(s, kBytesToPeer) - value(before, kBytesToPeer) >= 500 &&
           value(s, kBytesToClient) - value(before, kBytesToClient) >= 192 &&
           value(s, kBadIntegrity) - value(before, kBadIntegrity) >= 3;
  });
  CHECK(value(after, kBytesToPeer) - value(before, kBytesToPeer) == 500);
  CHECK(value(after, kBytesToClient) - value(before, kBytesToClient) == 192);
  CHECK(
      value(after, R"(turnwarden_relayed_packets_total{direction="client_to_peer",transport="udp"})") -
          value(before, R"(turnwarden_relayed_packets_total{direction="client_to_peer",transport="udp"})") ==
      5);
  CHECK(value(after, kBadIntegrity) - value(before, kBadIntegrity) == 3);
  CHECK(familySum(after, "turnwarden_peer_denied_total") -
            familySum(before, "turnwarden_peer_denied_total") ==
        2);
  CHECK(value(after, R"(turnwarden_requests_total{method="CreatePermission",result_code="403"})") == 2);
  CHECK(value(after, R"(turnwarden_allocations_total{result="success",transport="udp"})") == 1);
  CHECK(value(after, kActive) == 1);
  CHECK(value(after, "turnwarden_permissions_active") == 1);
  CHECK(value(after, "turnwarden_relay_ports_capacity") == 200);
  CHECK(value(after, "turnwarden_relay_ports_in_use") >= 1);
  CHECK(value(after, R"(turnwarden_config_reloads_total{result="success"})") == 1);
  CHECK(after.count(R"(turnwarden_build_info{version="0.1.0"})") == 1);
  CHECK(value(after, R"(turnwarden_request_duration_seconds_count{method="Allocate"})") >= 5);

  // The detectors saw the same conditions: three failures from 127.0.0.1,
  // two denials for alice, three distinct peers from her allocation (a scan
  // at threshold 3), and her burst above max_bps.
  const std::string kinds[] = {"brute_force", "denied_peer_burst", "relay_scan", "bandwidth_spike"};
  const Scrape anomalies = live.until([&](const Scrape& s) {
    for (const auto& k : kinds)
      if (value(s, "turnwarden_anomalies_total{kind=\"" + k + "\"}") < 1) return false;
    return true;
  });
  for (const auto& k : kinds) {
    INFO(k);
    CHECK(value(anomalies, "turnwarden_anomalies_total{kind=\"" + k + "\"}") == 1);
  }

  // promtool lints the exposition format: it must print nothing and exit 0.
  const std::string file = server.dir() + "/scrape.txt";
  std::ofstream(file) << live.raw;
  const std::string cmd = "promtool check metrics < " + file + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  INFO("promtool output: " << out);
  CHECK(rc == 0);
  CHECK(out.empty());

  REQUIRE(good.refresh(0)->code == 0);
  const Scrape gone = live.until([&](const Scrape& s) { return value(s, kActive) == 0; });
  CHECK(value(gone, kActive) == 0);
  CHECK(value(gone, "turnwarden_allocation_lifetime_seconds_count") == 1);

  // The security event log (stderr by default): sampled auth failure with the
  // hostile-free username escaped, the denial, and both anomalies.
  REQUIRE(server.stop() == 0);
  const std::string log = server.log();
  CHECK(log.find(R"("type":"auth_failure","severity":"warning","user":")") != std::string::npos);
  CHECK(log.find(R"(:mallory","client_ip":"127.0.0.1","peer":"","rule":"bad_integrity")") !=
        std::string::npos);
  CHECK(log.find(R"("type":"peer_denied")") != std::string::npos);
  // The first denial is written; the second (same source, same window) is sampled out.
  CHECK(log.find(R"("peer":"127.0.0.2:9","rule":"builtin:loopback-v4")") != std::string::npos);
  CHECK(log.find(R"("type":"peer_denied")") == log.rfind(R"("type":"peer_denied")"));
  CHECK(log.find(R"("rule":"denied_peer_burst")") != std::string::npos);
  CHECK(log.find(R"("type":"anomaly","severity":"warning")") != std::string::npos);
  CHECK(log.find(R"("rule":"brute_force","details":"3 failed authentications within 60s")") !=
        std::string::npos);
}

TEST_CASE("live /metrics: traffic of a TCP allocation is labelled transport=\"tcp\"") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(
      config(port, "  - {transport: tcp, address: 127.0.0.1, port: " + std::to_string(port) + "}\n"));
  REQUIRE(server.ready());
  auto at = metricsAddress(server.log());
  REQUIRE(at);
  Live live{*at, {}};
  const Scrape before = live.scrape();
  StunClient tcp = StunClient::tcp(*SocketAddress::parse("127.0.0.1:" + std::to_string(port)));
  const std::string user = restUser("tcp-alice");
  tcp.setCredentials(user, policy::restPassword(kSecret, user));
  auto alloc = tcp.allocate();
  REQUIRE(alloc->code == 0);
  StunClient peer(*alloc->msg().xorRelayedAddress());
  REQUIRE(tcp.createPermission(peer.local())->code == 0);
  for (int i = 0; i < 4; ++i) {
    tcp.sendIndication(peer.local(), payload(70, uint8_t(i)));
    REQUIRE(peer.receive(2000));
  }
  peer.send(payload(33, 0xCD));
  REQUIRE(tcp.receive(2000));

  const std::string toPeer = R"(turnwarden_relayed_bytes_total{direction="client_to_peer",transport="tcp"})";
  const std::string toClient =
      R"(turnwarden_relayed_bytes_total{direction="peer_to_client",transport="tcp"})";
  const Scrape after =
      live.until([&](const Scrape& s) { return value(s, toPeer) >= 280 && value(s, toClient) >= 33; });
  CHECK(value(after, toPeer) == 280);
  CHECK(value(after, toClient) == 33);
  CHECK(value(after, R"(turnwarden_relayed_packets_total{direction="client_to_peer",transport="tcp"})") == 4);
  // The open TCP connection shows under its listener kind (sampled each second).
  const Scrape conns = live.until(
      [&](const Scrape& s) { return value(s, R"(turnwarden_tcp_connections_active{listener="tcp"})") == 1; });
  CHECK(value(conns, R"(turnwarden_tcp_connections_active{listener="tcp"})") == 1);
  CHECK(value(conns, R"(turnwarden_tcp_connections_active{listener="tls"})") == 0);
  // Nothing of it is counted as UDP.
  CHECK(value(after, kBytesToPeer) == value(before, kBytesToPeer));
  CHECK(value(after, kBytesToClient) == value(before, kBytesToClient));
}
