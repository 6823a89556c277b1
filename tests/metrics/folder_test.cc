#include "metrics/folder.h"

#include <catch2/catch.hpp>
#include <sstream>

namespace tw::metrics {
namespace {

/// The value of the sample line `series` (name plus labels exactly as
/// rendered) in a text exposition, or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

WorkerSnapshot withBytes(uint64_t toPeer, uint64_t toClient) {
  WorkerSnapshot s;
  s.counters.relayed(turn::Direction::ClientToPeer, Transport::Udp, toPeer);
  s.counters.relayed(turn::Direction::PeerToClient, Transport::Udp, toClient);
  return s;
}

const std::string kToPeer = R"(turnwarden_relayed_bytes_total{direction="client_to_peer",transport="udp"})";

TEST_CASE("fold adds only the growth since a worker's previous snapshot") {
  MetricsFolder f("1.2.3");
  f.fold(0, withBytes(100, 7));
  REQUIRE(sample(f.render(), kToPeer) == 100);
  WorkerSnapshot later = withBytes(100, 7);
  later.counters.relayed(turn::Direction::ClientToPeer, Transport::Udp, 50);
  f.fold(0, later);
  CHECK(sample(f.render(), kToPeer) == 150);
  f.fold(0, later);  // nothing new: the counter stays
  CHECK(sample(f.render(), kToPeer) == 150);
}

TEST_CASE("fold sums workers, each against its own previous snapshot") {
  MetricsFolder f("1");
  f.fold(0, withBytes(10, 0));
  f.fold(1, withBytes(5, 0));
  f.fold(0, withBytes(10, 0));
  CHECK(sample(f.render(), kToPeer) == 15);
  CHECK(sample(f.render(),
               R"(turnwarden_relayed_packets_total{direction="client_to_peer",transport="udp"})") == 2);
}

TEST_CASE("fold labels relayed traffic with the allocation's client transport") {
  MetricsFolder f("1");
  WorkerSnapshot s;
  s.counters.relayed(turn::Direction::ClientToPeer, Transport::Tcp, 30);
  s.counters.relayed(turn::Direction::ClientToPeer, Transport::Tcp, 12);
  s.counters.relayed(turn::Direction::PeerToClient, Transport::Dtls, 9);
  s.counters.relayed(turn::Direction::ClientToPeer, Transport::Udp, 5);
  f.fold(0, s);
  const std::string text = f.render();
  CHECK(sample(text, R"(turnwarden_relayed_bytes_total{direction="client_to_peer",transport="tcp"})") == 42);
  CHECK(sample(text, R"(turnwarden_relayed_packets_total{direction="client_to_peer",transport="tcp"})") == 2);
  CHECK(sample(text, R"(turnwarden_relayed_bytes_total{direction="peer_to_client",transport="dtls"})") == 9);
  CHECK(sample(text, kToPeer) == 5);
  // Every transport's series exists from the start, at 0.
  CHECK(sample(text, R"(turnwarden_relayed_bytes_total{direction="peer_to_client",transport="tls"})") == 0);
}

TEST_CASE("fold maps labelled event counts and drops to their families") {
  MetricsFolder f("1");
  WorkerSnapshot s;
  s.stats.requests[{"Allocate", "401"}] = 3;
  s.stats.authFailures["bad_integrity"] = 2;
  s.stats.peerDenied["default-deny"] = 4;
  s.counters.drop(turn::DropReason::NoPermission);
  s.counters.drop(turn::DropReason::RateLimited);
  s.counters.limited(turn::RateLimitKind::Unauthenticated);
  f.fold(0, s);
  const std::string t = f.render();
  CHECK(sample(t, R"(turnwarden_requests_total{method="Allocate",result_code="401"})") == 3);
  CHECK(sample(t, R"(turnwarden_auth_failures_total{reason="bad_integrity"})") == 2);
  CHECK(sample(t, R"(turnwarden_auth_failures_total{reason="stale_nonce"})") == 0);
  CHECK(sample(t, R"(turnwarden_peer_denied_total{rule="default-deny"})") == 4);
  CHECK(sample(t, R"(turnwarden_packets_dropped_total{reason="no_permission"})") == 1);
  CHECK(sample(t, R"(turnwarden_rate_limited_total{kind="unauthenticated"})") == 1);
  CHECK(sample(t, R"(turnwarden_rate_limited_total{kind="requests"})") == 0);
  CHECK(sample(t, R"(turnwarden_build_info{version="1"})") == 1);
}

TEST_CASE("gauges are the sum over workers and fall back to zero") {
  MetricsFolder f("1");
  WorkerSnapshot a;
  a.gauges.allocations["udp|ipv4"] = 2;
  a.gauges.permissions = 3;
  WorkerSnapshot b;
  b.gauges.allocations["udp|ipv6"] = 1;
  f.fold(0, a);
  f.fold(1, b);
  std::string t = f.render();
  CHECK(sample(t, R"(turnwarden_allocations_active{family="ipv4",transport="udp"})") == 2);
  CHECK(sample(t, R"(turnwarden_allocations_active{family="ipv6",transport="udp"})") == 1);
  CHECK(sample(t, "turnwarden_permissions_active") == 3);
  f.fold(1, WorkerSnapshot{});
  t = f.render();
  CHECK(sample(t, R"(turnwarden_allocations_active{family="ipv6",transport="udp"})") == 0);
}

TEST_CASE("histograms receive the new observations per bucket") {
  MetricsFolder f("1");
  WorkerSnapshot s;
  observe(s.stats.durations["Allocate"], kRequestBounds, 0.00002);
  observe(s.stats.durations["Allocate"], kRequestBounds, 0.5);
  f.fold(0, s);
  observe(s.stats.durations["Allocate"], kRequestBounds, 0.00002);
  f.fold(0, s);
  const std::string t = f.render();
  CHECK(sample(t, R"(turnwarden_request_duration_seconds_count{method="Allocate"})") == 3);
  CHECK(sample(t, R"(turnwarden_request_duration_seconds_bucket{method="Allocate",le="2.5e-05"})") == 2);
  CHECK(sample(t, R"(turnwarden_request_duration_seconds_bucket{method="Allocate",le="+Inf"})") == 3);
}

TEST_CASE("process-wide records: reloads, ports, anomalies") {
  MetricsFolder f("1");
  f.recordReload(true, 1700000000);
  f.recordReload(false, 1700000100);
  f.setPorts(3, 200);
  f.recordAnomaly(AnomalyKind::BruteForce);
  const std::string t = f.render();
  CHECK(sample(t, R"(turnwarden_config_reloads_total{result="success"})") == 1);
  CHECK(sample(t, R"(turnwarden_config_reloads_total{result="failure"})") == 1);
  CHECK(sample(t, "turnwarden_config_last_reload_success_timestamp_seconds") == 1700000000);
  CHECK(sample(t, "turnwarden_relay_ports_in_use") == 3);
  CHECK(sample(t, "turnwarden_relay_ports_capacity") == 200);
  CHECK(sample(t, R"(turnwarden_anomalies_total{kind="brute_force"})") == 1);
}

}  // namespace
}  // namespace tw::metrics
