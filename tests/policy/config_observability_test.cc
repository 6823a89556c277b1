// The observability sections of the config: metrics, events, usage (with
// quotas.bytes_per_user), admin, anomalies.
#include <algorithm>
#include <catch2/catch.hpp>

#include "policy/config.h"
#include "policy/reload.h"
#include "policy/snapshot.h"

namespace tw::policy {
namespace {

constexpr const char* kFile = "/etc/tw/turnwarden.yaml";

std::string withSecret(const std::string& extra) {
  return "realm: example.org\nauth:\n  secrets:\n    - {id: k1, value: "
         "\"0123456789abcdef0123456789abcdef\"}\n" +
         extra;
}

TEST_CASE("observability sections: defaults", "[config]") {
  auto r = parseConfig(withSecret(""), kFile);
  REQUIRE(r.ok());
  CHECK(r->metrics.enabled);
  CHECK(r->metrics.listen.toString() == "127.0.0.1:9641");
  CHECK(r->events.file.empty());
  CHECK(r->events.queue == 4096);
  CHECK_FALSE(r->admin.listen);
  CHECK(r->anomalies.bruteForceFailures == 20);
  CHECK(r->anomalies.sharingWindow == std::chrono::minutes(10));
}

TEST_CASE("observability sections: every key is read", "[config]") {
  auto r = parseConfig(withSecret("metrics:\n  enabled: false\n  listen: \"[::1]:9700\"\n"
                                  "events:\n  file: events.jsonl\n  queue: 100\n  sample_window: 30s\n"
                                  "admin:\n  listen: 127.0.0.1:9642\n  token_file: admin.token\n"
                                  "anomalies:\n  window: 2m\n  brute_force_failures: 7\n  scan_revoke: true\n"
                                  "  max_bps: 5000000\n  sharing_ips: 0\n"),
                       kFile);
  REQUIRE(r.ok());
  CHECK_FALSE(r->metrics.enabled);
  CHECK(r->metrics.listen.toString() == "[::1]:9700");
  CHECK(r->events.file == "/etc/tw/events.jsonl");
  CHECK(r->events.queue == 100);
  CHECK(r->events.sampleWindow == std::chrono::seconds(30));
  REQUIRE(r->admin.listen);
  CHECK(r->admin.listen->port == 9642);
  CHECK(r->admin.tokenFile == "/etc/tw/admin.token");
  CHECK(r->anomalies.window == std::chrono::minutes(2));
  CHECK(r->anomalies.bruteForceFailures == 7);
  CHECK(r->anomalies.scanRevoke);
  CHECK(r->anomalies.maxBps == 5000000);
  CHECK(r->anomalies.sharingIps == 0);
}

TEST_CASE("observability sections: bad values are reported with FILE:LINE:COL", "[config]") {
  auto r = parseConfig(withSecret("metrics:\n  listen: localhost\n"
                                  "events:\n  queue: 1\n"
                                  "admin:\n  listen: 127.0.0.1:9642\n"
                                  "anomalies:\n  brute_force: 3\n"),
                       kFile);
  REQUIRE_FALSE(r.ok());
  const std::string all = formatErrors(r.error());
  CHECK(all.find("/etc/tw/turnwarden.yaml:6:11: metrics.listen: expected ADDRESS:PORT") != std::string::npos);
  CHECK(all.find("/etc/tw/turnwarden.yaml:8:10: events.queue") != std::string::npos);  // below 16
  CHECK(all.find("turnwarden.yaml:10:3: admin: missing required key 'token_file'") != std::string::npos);
  CHECK(all.find("turnwarden.yaml:12:3: anomalies: unknown key 'brute_force'") != std::string::npos);
}

TEST_CASE("usage: off by default, every key is read, the snapshot carries the interval", "[config]") {
  auto off = parseConfig(withSecret(""), kFile);
  REQUIRE(off.ok());
  CHECK(off->usage.file.empty());
  CHECK(off->usage.interval == std::chrono::minutes(5));
  CHECK(off->quotas.bytesPerUser.limit == 0);
  CHECK(buildSnapshot(*off, 1, {})->usageInterval.count() == 0);

  auto on =
      parseConfig(withSecret("usage:\n  file: usage.jsonl\n  interval: 1s\n  queue: 64\n  top_users: 5\n"
                             "quotas:\n  bytes_per_user: {limit: 20GB, window: 1d}\n"),
                  kFile);
  REQUIRE(on.ok());
  CHECK(on->usage.file == "/etc/tw/usage.jsonl");
  CHECK(on->usage.interval == std::chrono::seconds(1));
  CHECK(on->usage.queue == 64);
  CHECK(on->usage.topUsers == 5);
  CHECK(on->quotas.bytesPerUser.limit == 20'000'000'000);
  CHECK(on->quotas.bytesPerUser.window == std::chrono::hours(24));
  CHECK(buildSnapshot(*on, 1, {})->usageInterval == std::chrono::seconds(1));
  auto plain = parseConfig(withSecret("quotas:\n  bytes_per_user: {limit: 1048576}\n"), kFile);
  REQUIRE(plain.ok());
  CHECK(plain->quotas.bytesPerUser.limit == 1048576);
}

TEST_CASE("usage: bad values name the file, line and key", "[config]") {
  auto r = parseConfig(withSecret("usage:\n  file: usage.jsonl\n  interval: 500ms\n  intervall: 1s\n"
                                  "quotas:\n  bytes_per_user: {limit: 20 GB, window: 1h}\n"),
                       kFile);
  REQUIRE_FALSE(r.ok());
  const std::string all = formatErrors(r.error());
  CHECK(all.find("/etc/tw/turnwarden.yaml:7:13: usage.interval") != std::string::npos);  // below 1s
  CHECK(all.find("/etc/tw/turnwarden.yaml:8:3: usage: unknown key 'intervall' (did you mean 'interval'?)") !=
        std::string::npos);
  CHECK(all.find("/etc/tw/turnwarden.yaml:10:27: quotas.bytes_per_user.limit: expected a byte count") !=
        std::string::npos);
  auto missing = parseConfig(withSecret("quotas:\n  bytes_per_user: {window: 1h}\n"), kFile);
  REQUIRE_FALSE(missing.ok());
  CHECK(formatErrors(missing.error()).find("quotas.bytes_per_user") != std::string::npos);
}

TEST_CASE("usage: a reload keeps the running usage section and says it needs a restart", "[config]") {
  auto running = parseConfig(withSecret("usage:\n  file: a.jsonl\n"), kFile);
  auto next = parseConfig(withSecret("usage:\n  file: b.jsonl\n"
                                     "quotas:\n  bytes_per_user: {limit: 1MB}\n"),
                          kFile);
  REQUIRE(running.ok());
  REQUIRE(next.ok());
  ReloadPlan plan = planReload(*running, std::move(*next));
  CHECK(plan.config.usage.file == "/etc/tw/a.jsonl");
  CHECK(std::find(plan.restartOnly.begin(), plan.restartOnly.end(), "usage") != plan.restartOnly.end());
  CHECK(plan.config.quotas.bytesPerUser.limit == 1'000'000);  // reloadable
}

}  // namespace
TEST_CASE("http section: limits of every HTTP listener, one address never all of them", "[config]") {
  const std::string base =
      "realm: example.org\nauth:\n  secrets:\n    - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n";
  auto defaults = parseConfig(base, "/etc/tw/t.yaml");
  REQUIRE(defaults.ok());
  CHECK(defaults->http.maxConnections == 1024);
  CHECK(defaults->http.connectionsPerIp == 64);
  CHECK(defaults->http.requestTimeout == std::chrono::seconds(10));
  auto set =
      parseConfig(base + "http:\n  max_connections: 32\n  connections_per_ip: 8\n  request_timeout: 2s\n",
                  "/etc/tw/t.yaml");
  REQUIRE(set.ok());
  CHECK(set->http.maxConnections == 32);
  CHECK(set->http.connectionsPerIp == 8);
  CHECK(set->http.requestTimeout == std::chrono::seconds(2));
  auto fill =
      parseConfig(base + "http:\n  max_connections: 32\n  connections_per_ip: 32\n", "/etc/tw/t.yaml");
  REQUIRE_FALSE(fill.ok());
  CHECK(formatErrors(fill.error()).find("credentials") == std::string::npos);
  CHECK(formatErrors(fill.error()).find("http.connections_per_ip: must be below max_connections (32)") !=
        std::string::npos);
  CHECK_FALSE(parseConfig(base + "http:\n  request_timeout: 0s\n", "/etc/tw/t.yaml").ok());
  CHECK_FALSE(parseConfig(base + "http:\n  max_connections: 1\n", "/etc/tw/t.yaml").ok());
  CHECK_FALSE(parseConfig(base + "http:\n  bogus: 1\n", "/etc/tw/t.yaml").ok());
}

}  // namespace tw::policy
