// etc/grafana/turnwarden.json: a Grafana dashboard (schema >= 36) with a
// Prometheus datasource variable, whose every metric name exists in a live
// /metrics scrape of the binary. yaml-cpp reads the JSON (JSON is YAML).
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <regex>
#include <set>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;

namespace {

/// Usage records on (the top-users panel reads them), into the server's own temp dir.
std::string config(uint16_t port) {
  return testing::udpListenerYaml("dash.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47400-47499\n"
         "auth:\n  secrets: [{id: k1, value: \"dashdashdashdashdashdashdashdash\"}]\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "peers:\n  allowed: [127.0.0.1/32]\n"
         "usage:\n  file: usage.jsonl\n  interval: 3s\n";  // a burst stays in the top for 3 s
}

/// True when `name` is a sample name or a declared family in the scrape.
bool exported(const std::string& scrape, const std::string& name) {
  return scrape.find("\n" + name + "{") != std::string::npos ||
         scrape.find("\n" + name + " ") != std::string::npos ||
         scrape.find("# TYPE " + name + " ") != std::string::npos;
}

std::set<std::string> metricNames(const YAML::Node& dashboard) {
  static const std::regex re("turnwarden_[a-z_]+");
  std::set<std::string> names;
  for (const auto& panel : dashboard["panels"]) {
    REQUIRE(panel["targets"].size() > 0);
    for (const auto& t : panel["targets"]) {
      const std::string expr = t["expr"].as<std::string>();
      for (std::sregex_iterator it(expr.begin(), expr.end(), re), end; it != end; ++it)
        names.insert(it->str());
    }
  }
  return names;
}

}  // namespace

TEST_CASE("the Grafana dashboard uses only metrics the live binary exports") {
  const YAML::Node d = YAML::LoadFile(std::string(TW_SOURCE_DIR) + "/etc/grafana/turnwarden.json");
  CHECK(d["schemaVersion"].as<int>() >= 36);
  bool hasDatasourceVar = false;
  for (const auto& v : d["templating"]["list"])
    hasDatasourceVar |=
        v["type"].as<std::string>() == "datasource" && v["query"].as<std::string>() == "prometheus";
  CHECK(hasDatasourceVar);
  for (const auto& panel : d["panels"])
    CHECK(panel["datasource"]["uid"].as<std::string>() == "${datasource}");
  const std::set<std::string> names = metricNames(d);
  for (const char* needed :
       {"turnwarden_relayed_bytes_total", "turnwarden_allocations_active", "turnwarden_auth_failures_total",
        "turnwarden_peer_denied_total", "turnwarden_bans_active", "turnwarden_anomalies_total",
        "turnwarden_config_reloads_total", "turnwarden_secret_rotations_total",
        "turnwarden_relay_ports_in_use", "turnwarden_usage_top_user_bytes"})
    CHECK(names.count(needed) == 1);

  const uint16_t port = testing::freeUdpPort();
  testing::ServerProcess server(config(port));
  REQUIRE(server.ready());
  std::smatch m;
  const std::string log = server.log();
  REQUIRE(std::regex_search(log, m, std::regex("serving http://([0-9.]+:[0-9]+)/metrics")));
  const SocketAddress at = *SocketAddress::parse(m[1].str());
  // One request so the per-method latency histogram has a series, and one
  // denied peer so peer_denied_total{rule} has one (its rules are config-defined).
  testing::StunClient c(*SocketAddress::parse("127.0.0.1:" + std::to_string(port)));
  REQUIRE(c.request(stun::Method::Binding));
  const std::string user = std::to_string(std::time(nullptr) + 600) + ":dash";
  c.setCredentials(user, policy::restPassword("dashdashdashdashdashdashdashdash", user));
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  REQUIRE(c.createPermission(*SocketAddress::parse("10.0.0.1:80"))->code == 403);
  // Some relayed bytes, so the next usage record puts "dash" in the top users.
  testing::StunClient peer(*alloc->msg().xorRelayedAddress());
  REQUIRE(c.createPermission(peer.local())->code == 0);
  c.sendIndication(peer.local(), std::vector<uint8_t>(100, 7));
  REQUIRE(peer.receive(2000));
  std::string scrape;
  for (int i = 0; i < 150; ++i) {  // the first usage records come 3-6 s after start
    scrape = "\n" + testing::httpGet(at, "/metrics")->body;
    if (exported(scrape, "turnwarden_request_duration_seconds_bucket") &&
        exported(scrape, "turnwarden_peer_denied_total") &&
        exported(scrape, "turnwarden_usage_top_user_bytes"))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const auto& name : names) {
    INFO(name);
    CHECK(exported(scrape, name));
  }
  // Exactly the bytes relayed, under the one user who relayed them.
  CHECK(scrape.find("\nturnwarden_usage_top_user_bytes{rank=\"1\",user=\"dash\"} 100\n") !=
        std::string::npos);
}
