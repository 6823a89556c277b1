// quotas:, rate_limits:, bans: and auth.blocked_users (policy/config_quotas.cc).
#include <catch2/catch.hpp>

#include "policy/config.h"
#include "policy/snapshot.h"

using namespace tw::policy;
using namespace std::chrono_literals;

namespace {

std::string config(const std::string& extra, const std::string& authExtra = "") {
  return "realm: example.org\n"
         "auth:\n  secrets: [{id: k1, value: \"0123456789abcdef0123456789abcdef\"}]\n" +
         authExtra + extra;
}

std::string errorsOf(const std::string& text) {
  auto r = parseConfig(text, "q.yaml");
  REQUIRE_FALSE(r.ok());
  return formatErrors(r.error());
}

}  // namespace

TEST_CASE("the issue's example quotas, rate_limits and bans parse into the structs", "[config]") {
  auto r = parseConfig(config(R"(quotas:
  per_user: 10
  per_ip: 20
  total: 20000
  max_bps: 2000000
  total_bps: 0
  permissions_per_allocation: 32
  channels_per_allocation: 32
rate_limits:
  requests_per_source: {rate: 40, burst: 80}
  requests_per_ip: {rate: 50, burst: 100}
  unauthenticated_per_source: {rate: 3, burst: 6}
  unauthenticated_per_ip: {rate: 5, burst: 20}
bans:
  failed_auth: {threshold: 20, window: 60s, ban_for: 10m}
)",
                              "  blocked_users: [mallory, eve]\n"),
                       "q.yaml");
  if (!r) FAIL(formatErrors(r.error()));
  const Config& c = r.value();
  CHECK(c.quotas.perUser == 10);
  CHECK(c.quotas.perIp == 20);
  CHECK(c.quotas.total == 20000);
  CHECK(c.quotas.maxBps == 2000000);
  CHECK(c.quotas.totalBps == 0);
  CHECK(c.limits.permissionsPerAllocation == 32);
  CHECK(c.limits.channelsPerAllocation == 32);
  CHECK(c.rateLimits.requestsPerSource.rate == 40);
  CHECK(c.rateLimits.requestsPerSource.burst == 80);
  CHECK(c.rateLimits.unauthenticatedPerSource.rate == 3);
  CHECK(c.rateLimits.unauthenticatedPerSource.burst == 6);
  CHECK(c.rateLimits.requestsPerIp.rate == 50);
  CHECK(c.rateLimits.requestsPerIp.burst == 100);
  CHECK(c.rateLimits.unauthenticatedPerIp.rate == 5);
  CHECK(c.rateLimits.unauthenticatedPerIp.burst == 20);
  CHECK(c.bans.threshold == 20);
  CHECK(c.bans.window == 60s);
  CHECK(c.bans.banFor == 10min);
  CHECK(c.auth.blockedUsers == std::vector<std::string>{"mallory", "eve"});
  auto snap = buildSnapshot(c, 1, {});
  CHECK(snap->isBlocked("eve"));
  CHECK_FALSE(snap->isBlocked("alice"));
  CHECK(snap->quotas.maxBps == 2000000);
}

TEST_CASE("quotas.* per-allocation caps set the same values as the limits.* aliases", "[config]") {
  auto a =
      parseConfig(config("quotas: {permissions_per_allocation: 40, channels_per_allocation: 7}\n"), "q.yaml");
  auto b =
      parseConfig(config("limits: {permissions_per_allocation: 40, channels_per_allocation: 7}\n"), "q.yaml");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->limits.permissionsPerAllocation == 40);
  CHECK(a->limits.channelsPerAllocation == 7);
  CHECK(b->limits.permissionsPerAllocation == 40);
  CHECK(b->limits.channelsPerAllocation == 7);
}

TEST_CASE("omitted quota sections keep the documented defaults", "[config]") {
  auto r = parseConfig(config(""), "q.yaml");
  REQUIRE(r.ok());
  CHECK(r->quotas.perUser == 50);
  CHECK(r->quotas.perIp == 0);  // carrier-grade NAT (docs/policy.md)
  CHECK(r->quotas.total == 20000);
  CHECK(r->quotas.maxBps == 2000000);
  CHECK(r->quotas.totalBps == 0);
  CHECK(r->rateLimits.requestsPerSource.rate == 50);
  CHECK(r->rateLimits.requestsPerSource.burst == 100);
  CHECK(r->rateLimits.requestsPerIp.rate == 1000);
  CHECK(r->rateLimits.requestsPerIp.burst == 2000);
  CHECK(r->rateLimits.unauthenticatedPerSource.rate == 5);
  CHECK(r->rateLimits.unauthenticatedPerSource.burst == 20);
  CHECK(r->rateLimits.unauthenticatedPerIp.rate == 200);
  CHECK(r->rateLimits.unauthenticatedPerIp.burst == 400);
  CHECK(r->bans.threshold == 20);
  CHECK(r->bans.banFor == 10min);
  CHECK(r->auth.blockedUsers.empty());
}

TEST_CASE("a rate without burst gets one second's worth", "[config]") {
  auto r = parseConfig(config("rate_limits:\n  requests_per_ip: {rate: 30}\n"), "q.yaml");
  REQUIRE(r.ok());
  CHECK(r->rateLimits.requestsPerIp.burst == 30);
}

TEST_CASE("bad quota, rate and ban values are reported with FILE:LINE:COL", "[config]") {
  CHECK_THAT(errorsOf(config("quotas:\n  per_user: -1\n")), Catch::Contains("q.yaml:5:13"));
  CHECK_THAT(errorsOf(config("quotas:\n  per_usr: 3\n")), Catch::Contains("per_user"));
  CHECK_THAT(errorsOf(config("quotas: {max_bps: 100, total_bps: 10}\n")),
             Catch::Contains("total_bps (10) is below max_bps (100)"));
  CHECK_THAT(errorsOf(config("quotas: {per_user: 30, total: 5}\n")),
             Catch::Contains("per_user (30) exceeds total (5)"));
  CHECK_THAT(errorsOf(config("quotas: {permissions_per_allocation: 4}\n")),
             Catch::Contains("below limits.permissions_per_request"));
  CHECK_THAT(errorsOf(config("rate_limits:\n  requests_per_ip: {burst: 3}\n")), Catch::Contains("rate"));
  CHECK_THAT(errorsOf(config("rate_limits:\n  requests_per_ip: {rate: 3, burst: 0}\n")),
             Catch::Contains("q.yaml:5:"));
  CHECK_THAT(errorsOf(config("bans:\n  failed_auth: {window: soon}\n")), Catch::Contains("q.yaml:5:"));
  CHECK_THAT(errorsOf(config("bans:\n  failed_auth: {ban_for: 0s}\n")), Catch::Contains("ban_for"));
  CHECK_THAT(errorsOf(config("", "  blocked_users: [a, a]\n")), Catch::Contains("duplicate blocked user"));
  CHECK_THAT(errorsOf(config("", "  blocked_users: [\"a b\"]\n")), Catch::Contains("printable ASCII"));
}

TEST_CASE("TCP relay keys: quotas and the early-data buffer parse, default and are range-checked",
          "[config]") {
  auto d = parseConfig(config(""), "q.yaml");
  REQUIRE(d.ok());
  CHECK(d->quotas.tcpConnectionsPerAllocation == 16);
  CHECK(d->quotas.connectsPerMinute == 30);
  CHECK(d->transports.tcpRelayBufferBytes == 65536);

  auto r = parseConfig(config("quotas:\n  tcp_connections_per_allocation: 4\n  connects_per_minute: 0\n"
                              "transports:\n  tcp_relay_buffer_bytes: 8192\n"),
                       "q.yaml");
  if (!r) FAIL(formatErrors(r.error()));
  CHECK(r->quotas.tcpConnectionsPerAllocation == 4);
  CHECK(r->quotas.connectsPerMinute == 0);  // unlimited
  CHECK(r->transports.tcpRelayBufferBytes == 8192);
  CHECK(buildSnapshot(r.value(), 1, {})->quotas.tcpConnectionsPerAllocation == 4);

  const std::string bad =
      errorsOf(config("quotas:\n  connects_per_minute: -1\n"
                      "transports:\n  tcp_relay_buffer_bytes: 100\n"));
  CHECK(bad.find("q.yaml:5:24:") != std::string::npos);
  CHECK(bad.find("q.yaml:7:27:") != std::string::npos);
}

TEST_CASE("relay.tcp: off by default, a boolean, and in the snapshot", "[config]") {
  auto d = parseConfig(config(""), "q.yaml");
  REQUIRE(d.ok());
  CHECK_FALSE(d->relay.tcp);
  CHECK_FALSE(buildSnapshot(d.value(), 1, {})->tcpRelay);
  auto on = parseConfig(config("relay:\n  addresses: [127.0.0.1]\n  tcp: true\n"), "q.yaml");
  if (!on) FAIL(formatErrors(on.error()));
  CHECK(buildSnapshot(on.value(), 1, {})->tcpRelay);
  CHECK(errorsOf(config("relay:\n  tcp: sometimes\n")).find("q.yaml:5:8:") != std::string::npos);
}

TEST_CASE("per-allocation caps are checked against limits: in either order of the sections", "[config]") {
  // limits: after quotas: used to be checked against the default permissions_per_request.
  CHECK(parseConfig(config("quotas: {permissions_per_allocation: 2}\nlimits: {permissions_per_request: 1}\n"),
                    "q.yaml")
            .ok());
  CHECK(parseConfig(config("limits: {permissions_per_request: 1}\nquotas: {permissions_per_allocation: 2}\n"),
                    "q.yaml")
            .ok());
  CHECK_THAT(
      errorsOf(config("quotas: {permissions_per_allocation: 2}\nlimits: {permissions_per_request: 3}\n")),
      Catch::Contains("quotas.permissions_per_allocation: permissions_per_allocation (2) is below "
                      "limits.permissions_per_request (3)"));
  CHECK_THAT(
      errorsOf(config("quotas: {channels_per_allocation: 5000}\nlimits: {channel_numbers: rfc8656}\n")),
      Catch::Contains("channels_per_allocation (5000) exceeds the 4096 channel numbers available"));
}
