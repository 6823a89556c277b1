#include "metrics/stats_events.h"

#include <catch2/catch.hpp>

#include "relay/turn/allocation.h"
#include "relay/turn/allocation_table.h"

namespace tw::metrics {
namespace {

FiveTuple tuple(Transport t = Transport::Udp) {
  return FiveTuple{*SocketAddress::parse("127.0.0.1:5000"), *SocketAddress::parse("127.0.0.1:3478"), t};
}

std::unique_ptr<turn::Allocation> allocation(uint64_t id, const char* relayed, uint16_t clientPort) {
  auto a = std::make_unique<turn::Allocation>();
  a->id = id;
  a->tuple = tuple();
  a->tuple.client.port = clientPort;
  a->relayed = *SocketAddress::parse(relayed);
  return a;
}

TEST_CASE("result codes are bounded label values") {
  CHECK(resultCode(0, "") == "200");
  CHECK(resultCode(0, "no_allocation") == "dropped");
  CHECK(resultCode(401, "bad_integrity") == "401");
  CHECK(allocationResult(0) == "success");
  CHECK(allocationResult(438) == "unauthorized");
  CHECK(allocationResult(486) == "quota");
  CHECK(allocationResult(508) == "capacity");
  CHECK(allocationResult(400) == "error");
}

TEST_CASE("StatsEvents counts requests, failures and denials by label") {
  ManualClock clock;
  StatsEvents ev(clock);
  ev.onRequest(stun::Method::Allocate, 401, "bad_integrity", tuple());
  ev.onRequest(stun::Method::Allocate, 401, "bad_integrity", tuple());
  ev.onRequest(stun::Method::Allocate, 486, "user_quota", tuple());
  ev.onRequest(stun::Method::Binding, 0, "", tuple());
  ev.onAuthFailed("bad_integrity", tuple(), "evil\"user");
  ev.onPeerDenied(*SocketAddress::parse("10.0.0.1:80"), "rfc1918", tuple(), "alice");
  ev.onRequestDuration(stun::Method::Binding, std::chrono::microseconds(30));
  const WorkerStats& s = ev.stats();
  CHECK(s.requests.at({"Allocate", "401"}) == 2);
  CHECK(s.requests.at({"Binding", "200"}) == 1);
  CHECK(s.allocations.at({"udp", "unauthorized"}) == 2);
  CHECK(s.allocations.at({"udp", "quota"}) == 1);
  CHECK(s.quotaRejections.at("user_quota") == 1);
  CHECK(s.authFailures.at("bad_integrity") == 1);
  CHECK(s.peerDenied.at("rfc1918") == 1);
  CHECK(s.durations.at("Binding").count == 1);
  CHECK(s.durations.at("Binding").counts[2] == 1);  // 25 us < 30 us <= 50 us
}

TEST_CASE("allocation lifetimes are observed when allocations end") {
  ManualClock clock;
  StatsEvents ev(clock);
  auto a = allocation(1, "127.0.0.1:50000", 5000);
  a->created = clock.now();
  ev.onAllocationCreated(*a);
  clock.advance(std::chrono::seconds(90));
  ev.onAllocationDeleted(*a, "expired");
  CHECK(ev.stats().allocations.at({"udp", "success"}) == 1);
  CHECK(ev.stats().lifetimes.count == 1);
  CHECK(ev.stats().lifetimes.sum == Approx(90));
  CHECK(ev.stats().lifetimes.counts[3] == 1);  // 60 < 90 <= 300
}

TEST_CASE("takeSnapshot samples the allocation table by transport and family") {
  ManualClock clock;
  StatsEvents ev(clock);
  turn::AllocationTable table;
  auto v4 = allocation(1, "127.0.0.1:50000", 5000);
  v4->permissions.push_back({*IpAddress::parse("127.0.0.2"), clock.now()});
  v4->permissions.push_back({*IpAddress::parse("127.0.0.3"), clock.now()});
  table.insert(std::move(v4));
  table.insert(allocation(2, "[::1]:50002", 5001));
  turn::WorkerCounters counters;
  counters.relayed(turn::Direction::PeerToClient, Transport::Udp, 42);
  const WorkerSnapshot s = takeSnapshot(counters, ev, table);
  CHECK(s.gauges.allocations.at("udp|ipv4") == 1);
  CHECK(s.gauges.allocations.at("udp|ipv6") == 1);
  CHECK(s.gauges.permissions == 2);
  CHECK(s.counters.relayedBytes[1][size_t(Transport::Udp)] == 42);
}

}  // namespace
}  // namespace tw::metrics
