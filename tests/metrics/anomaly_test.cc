#include "metrics/anomaly.h"

#include <catch2/catch.hpp>

#include "relay/turn/allocation.h"

namespace tw::metrics {
namespace {

using std::chrono::seconds;

FiveTuple from(const std::string& client) {
  return FiveTuple{*SocketAddress::parse(client), *SocketAddress::parse("127.0.0.1:3478"), Transport::Udp};
}

std::unique_ptr<turn::Allocation> allocation(uint64_t id, const std::string& client,
                                             const std::string& user) {
  auto a = std::make_unique<turn::Allocation>();
  a->id = id;
  a->tuple = from(client);
  a->user = user;
  return a;
}

struct Fixture {
  ManualClock clock;
  policy::AnomaliesConfig config;
  std::vector<Anomaly> fired;
  std::unique_ptr<AnomalyDetector> d;
  SeededRandom seeds{7};
  SendTargets sends{clock, seeds};  // the worker's Send destinations
  Fixture() { rebuild(); }
  void rebuild() {
    d = std::make_unique<AnomalyDetector>(config, clock, [this](const Anomaly& a) { fired.push_back(a); });
  }
  /// The collector's once-a-second round for one worker: sample on the
  /// worker, then the detectors on the hub.
  void sample(turn::AllocationTable& table) {
    d->sample(0, sampleAllocations(table, sends, config, clock.now()));
  }
  void send(const turn::Allocation& a, const SocketAddress& peer) { sends.onSendTarget(a, peer); }
  uint32_t distinct(const turn::Allocation& a) const { return sends.distinct(a.id); }
  size_t count(const std::string& kind) const {
    return size_t(std::count_if(fired.begin(), fired.end(),
                                [&](const Anomaly& a) { return toString(a.kind) == kind; }));
  }
};

TEST_CASE("brute force: the N-th failure from one IP in a window fires once") {
  Fixture f;
  f.config.bruteForceFailures = 5;
  f.rebuild();
  for (int i = 0; i < 4; ++i) f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1000"), "mallory");
  CHECK(f.fired.empty());
  f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1001"), "mallory");  // other port, same IP
  REQUIRE(f.fired.size() == 1);
  CHECK(f.fired[0].kind == AnomalyKind::BruteForce);
  CHECK(f.fired[0].clientIp == "192.0.2.1");
  CHECK(f.fired[0].details == "5 failed authentications within 60s");
  for (int i = 0; i < 20; ++i) f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1000"), "mallory");
  CHECK(f.fired.size() == 1);  // once per window
  for (int i = 0; i < 4; ++i) f.d->onAuthFailed("bad_integrity", from("192.0.2.2:1000"), "x");
  CHECK(f.fired.size() == 1);  // another source counts on its own
  f.clock.advance(seconds(60));
  for (int i = 0; i < 5; ++i) f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1000"), "mallory");
  CHECK(f.count("brute_force") == 2);  // a new window
}

TEST_CASE("brute force: failures spread over windows never fire, 0 disables") {
  Fixture f;
  f.config.bruteForceFailures = 5;
  f.rebuild();
  for (int i = 0; i < 20; ++i) {
    f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1000"), "u");
    f.clock.advance(seconds(20));  // 3 per 60 s window
  }
  CHECK(f.fired.empty());
  f.config.bruteForceFailures = 0;
  f.rebuild();
  for (int i = 0; i < 100; ++i) f.d->onAuthFailed("bad_integrity", from("192.0.2.1:1000"), "u");
  CHECK(f.fired.empty());
}

TEST_CASE("relay scanning: many distinct peers from one allocation, denied or permitted") {
  Fixture f;
  f.config.scanDistinctPeers = 10;
  f.rebuild();
  turn::AllocationTable table;
  auto& a = table.insert(allocation(7, "192.0.2.9:5000", "scanner"));
  for (int i = 0; i < 6; ++i)
    f.d->onPeerDenied(*SocketAddress::parse("10.0.0." + std::to_string(i) + ":22"), "builtin:private-10",
                      a.tuple, "scanner");
  f.d->onPeerDenied(*SocketAddress::parse("10.0.0.1:22"), "builtin:private-10", a.tuple, "scanner");
  CHECK(f.count("relay_scan") == 0);  // 6 distinct so far
  for (int i = 0; i < 4; ++i)
    a.permissions.push_back({*IpAddress::parse("198.51.100." + std::to_string(i)), f.clock.now()});
  f.sample(table);
  REQUIRE(f.count("relay_scan") == 1);
  const Anomaly& s = f.fired.back();
  CHECK(s.allocationId == 7);
  CHECK(s.user == "scanner");
  CHECK(s.details == "10 distinct peers from one allocation within 60s");
  f.sample(table);
  CHECK(f.count("relay_scan") == 1);
}

/// A detector firing relay_scan at `threshold`, and allocation `id` of
/// `user` in `table` (client 192.0.2.id).
turn::Allocation& scanSetup(Fixture& f, turn::AllocationTable& table, uint32_t threshold, uint64_t id,
                            const std::string& user) {
  f.config.scanDistinctPeers = threshold;
  f.rebuild();
  return table.insert(allocation(id, "192.0.2." + std::to_string(id) + ":5000", user));
}

TEST_CASE("relay scanning: Connects to N distinct ports of one host fire one relay_scan") {
  Fixture f;
  f.config.scanDistinctPeers = 5;
  f.rebuild();
  auto a = allocation(11, "192.0.2.10:5000", "tcpscanner");
  auto peer = [](int port) { return *SocketAddress::parse("198.51.100.1:" + std::to_string(port)); };
  for (int i = 0; i < 4; ++i) f.d->onConnectAttempt(*a, peer(20 + i));
  for (int i = 0; i < 4; ++i) f.d->onConnectAttempt(*a, peer(20));  // a retry is not a new peer
  CHECK(f.count("relay_scan") == 0);
  f.d->onConnectAttempt(*a, peer(80));
  REQUIRE(f.count("relay_scan") == 1);
  CHECK(f.fired.back().allocationId == 11);
  CHECK(f.fired.back().user == "tcpscanner");
  CHECK(f.fired.back().clientIp == "192.0.2.10");
  CHECK(f.fired.back().peer == "198.51.100.1:80");
  CHECK(f.fired.back().details == "5 distinct peers from one allocation within 60s");
  for (int i = 0; i < 50; ++i) f.d->onConnectAttempt(*a, peer(1000 + i));
  CHECK(f.count("relay_scan") == 1);  // once per window
  f.clock.advance(seconds(60));
  for (int i = 0; i < 5; ++i) f.d->onConnectAttempt(*a, peer(2000 + i));
  CHECK(f.count("relay_scan") == 2);  // the next window fires again
}

TEST_CASE("relay scanning: Send to many ports of one permitted IP fires at the sample") {
  Fixture f;
  turn::AllocationTable table;
  auto& a = scanSetup(f, table, 8, 12, "udpscanner");
  a.permissions.push_back({*IpAddress::parse("198.51.100.2"), f.clock.now() + seconds(300)});
  auto port = [](int p) { return SocketAddress{*IpAddress::parse("198.51.100.2"), uint16_t(p)}; };
  for (int i = 0; i < 3; ++i) f.send(a, port(7000 + i));
  f.sample(table);
  CHECK(f.count("relay_scan") == 0);  // one permission, three destinations
  uint16_t p = 7003;
  while (f.distinct(a) < 8) f.send(a, port(p++));
  CHECK(p - 7000 <= 10);  // a collision or two at most
  f.sample(table);
  REQUIRE(f.count("relay_scan") == 1);
  CHECK(f.fired.back().allocationId == 12);
  CHECK(f.fired.back().user == "udpscanner");
  CHECK(f.fired.back().peer == port(p - 1).toString());
  CHECK(f.fired.back().details == "8 distinct Send destinations from one allocation within 60s");
  CHECK(f.distinct(a) == 0);  // reported, counting again
  for (int i = 0; i < 40; ++i) f.send(a, port(8000 + i));
  f.sample(table);
  CHECK(f.count("relay_scan") == 1);  // still the same window
  CHECK(f.distinct(a) == 0);          // that crossing is spent
  f.clock.advance(seconds(61));
  for (int i = 0; i < 40; ++i) f.send(a, port(9000 + i));
  f.sample(table);
  CHECK(f.count("relay_scan") == 2);  // a new window fires again
}

TEST_CASE("relay scanning: Sends below the threshold in each window never fire, 0 disables") {
  Fixture f;
  turn::AllocationTable table;
  auto& a = scanSetup(f, table, 10, 13, "slow");
  f.sample(table);  // nothing sent yet: no tracker
  uint16_t port = 1;
  for (int w = 0; w < 5; ++w) {
    for (int i = 0; i < 6; ++i) f.send(a, SocketAddress{*IpAddress::parse("127.0.0.1"), port++});
    for (int s = 0; s < 60; ++s) {  // 60 samples a second apart: one window
      f.clock.advance(seconds(1));
      f.sample(table);
    }
  }
  CHECK(f.count("relay_scan") == 0);  // 30 ports, but 6 per window
  f.config.scanDistinctPeers = 0;
  f.d->setConfig(f.config);
  for (int i = 0; i < 500; ++i) f.send(a, SocketAddress{*IpAddress::parse("127.0.0.1"), port++});
  f.sample(table);
  CHECK(f.fired.empty());
}

TEST_CASE("relay scanning: peers and Send destinations together fire once per window") {
  Fixture f;
  turn::AllocationTable table;
  auto& a = scanSetup(f, table, 4, 14, "both");
  for (int i = 0; i < 4; ++i)
    a.permissions.push_back({*IpAddress::parse("198.51.100." + std::to_string(10 + i)), f.clock.now()});
  uint16_t p = 1;
  while (f.distinct(a) < 4) f.send(a, SocketAddress{*IpAddress::parse("198.51.100.10"), p++});
  f.sample(table);
  REQUIRE(f.count("relay_scan") == 1);
  CHECK(f.fired.back().details == "4 distinct peers from one allocation within 60s");
  CHECK(f.distinct(a) == 0);  // the Send count was seen too, and spent
  f.clock.advance(seconds(30));
  while (f.distinct(a) < 4) f.send(a, SocketAddress{*IpAddress::parse("198.51.100.11"), p++});
  f.sample(table);
  CHECK(f.count("relay_scan") == 1);  // same window: still one
}

TEST_CASE("denied-peer burst: repeated 403s for one user") {
  Fixture f;
  f.config.deniedPeerBurst = 3;
  f.config.scanDistinctPeers = 0;
  f.rebuild();
  for (int i = 0; i < 3; ++i)
    f.d->onPeerDenied(*SocketAddress::parse("169.254.169.254:80"), "builtin:link-local-v4",
                      from("192.0.2.3:" + std::to_string(4000 + i)), "prober");
  REQUIRE(f.count("denied_peer_burst") == 1);
  CHECK(f.fired[0].peer == "169.254.169.254:80");
  CHECK(f.fired[0].user == "prober");
}

TEST_CASE("allocation churn: quick connect-and-exit from one IP") {
  Fixture f;
  f.config.churnAllocations = 10;
  f.rebuild();
  for (uint64_t i = 0; i < 5; ++i) {
    auto a = allocation(i + 1, "192.0.2.4:" + std::to_string(6000 + i), "u");
    f.d->onAllocationCreated(*a);
    f.d->onAllocationDeleted(*a, "deleted");
  }
  REQUIRE(f.count("allocation_churn") == 1);
  CHECK(f.fired.back().clientIp == "192.0.2.4");
  auto last = allocation(99, "192.0.2.5:1", "u");
  f.d->onAllocationDeleted(*last, "shutdown");  // shutdown is not churn
  CHECK(f.count("allocation_churn") == 1);
}

TEST_CASE("credential sharing: one user from more than N client IPs") {
  Fixture f;
  f.config.sharingIps = 3;
  f.config.churnAllocations = 0;
  f.rebuild();
  for (int i = 1; i <= 3; ++i) {
    auto a = allocation(uint64_t(i), "203.0.113." + std::to_string(i) + ":5000", "shared");
    f.d->onAllocationCreated(*a);
    f.d->onAllocationCreated(*a);  // the same IP again is not a new one
  }
  CHECK(f.count("credential_sharing") == 0);
  f.d->onAllocationCreated(*allocation(4, "203.0.113.4:5000", "shared"));
  REQUIRE(f.count("credential_sharing") == 1);
  CHECK(f.fired.back().user == "shared");
  CHECK(f.fired.back().details == "4 distinct client IPs for one user within 600s");
  f.d->onAllocationCreated(*allocation(5, "203.0.113.5:5000", "other"));
  CHECK(f.count("credential_sharing") == 1);
}

struct Count {
  Instant start;
  int n = 0;
};

TEST_CASE("windowed keys: bounded, a full map refuses new keys until windows end") {
  WindowedMap<int, Count> m;
  ManualClock clock;
  const Duration window = seconds(60);
  for (int k = 0; k < int(kMaxKeys); ++k) REQUIRE(m.current(k, clock.now(), window) != nullptr);
  CHECK(m.current(-1, clock.now(), window) == nullptr);  // full: not tracked
  Count* kept = m.current(5, clock.now(), window);       // a tracked key still counts
  REQUIRE(kept);
  kept->n = 3;
  CHECK(m.current(5, clock.now(), window)->n == 3);
  clock.advance(seconds(30));
  CHECK(m.current(-1, clock.now(), window) == nullptr);
  clock.advance(seconds(30));  // every window has ended
  Count* fresh = m.current(-1, clock.now(), window);
  REQUIRE(fresh);
  CHECK(fresh->n == 0);
  CHECK(m.size() == 1);  // the ended windows were dropped, not kept until needed
}

TEST_CASE("windowed keys: a window that started again outlives its first start") {
  WindowedMap<std::string, Count> m;
  ManualClock clock;
  const Duration window = seconds(10);
  m.current("a", clock.now(), window)->n = 1;
  clock.advance(seconds(10));
  Count* again = m.current("a", clock.now(), window);  // a's second window
  REQUIRE(again);
  CHECK(again->n == 0);
  again->n = 7;
  clock.advance(seconds(5));
  m.current("b", clock.now(), window);  // drops what ended: a's first record only
  CHECK(m.current("a", clock.now(), window)->n == 7);
  CHECK(m.size() == 2);
}

TEST_CASE(
    "credential sharing: past 10,000 users in the window, new users cost no scan and old ones still fire") {
  Fixture f;
  f.config.sharingIps = 1;
  f.config.churnAllocations = 0;
  f.rebuild();
  for (int i = 0; i < int(kMaxKeys) + 500; ++i)
    f.d->onAllocationCreated(*allocation(uint64_t(i + 1), "198.51.100.1:5000", "u" + std::to_string(i)));
  CHECK(f.count("credential_sharing") == 0);
  f.d->onAllocationCreated(*allocation(90000, "198.51.100.2:5000", "u17"));  // tracked: fires
  CHECK(f.count("credential_sharing") == 1);
  f.clock.advance(f.config.sharingWindow);
  f.d->onAllocationCreated(*allocation(90001, "198.51.100.1:5000", "late"));
  f.d->onAllocationCreated(*allocation(90002, "198.51.100.2:5000", "late"));  // room again
  CHECK(f.count("credential_sharing") == 2);
}

TEST_CASE("bandwidth spike: far above the allocation's own EWMA, or above max_bps") {
  Fixture f;
  f.config.spikeFactor = 10;
  f.config.spikeMinBps = 100'000;
  f.rebuild();
  turn::AllocationTable table;
  auto& a = table.insert(allocation(3, "192.0.2.6:5000", "streamer"));
  f.sample(table);                // baseline
  for (int i = 0; i < 10; ++i) {  // steady 80 kbit/s
    f.clock.advance(seconds(1));
    a.bytesToPeer += 10'000;
    f.sample(table);
  }
  CHECK(f.fired.empty());
  f.clock.advance(seconds(1));
  a.bytesToPeer += 1'000'000;  // 8 Mbit/s in one second: 100x its average
  f.sample(table);
  REQUIRE(f.count("bandwidth_spike") == 1);
  CHECK(f.fired.back().allocationId == 3);

  Fixture g;
  g.config.maxBps = 1'000'000;
  g.config.spikeFactor = 1000;
  g.rebuild();
  turn::AllocationTable t2;
  auto& b = t2.insert(allocation(4, "192.0.2.7:5000", "hog"));
  g.sample(t2);
  g.clock.advance(seconds(1));
  b.bytesToClient += 200'000;  // 1.6 Mbit/s
  g.sample(t2);
  REQUIRE(g.count("bandwidth_spike") == 1);
  CHECK(g.fired.back().details.find("> max_bps 1000000 bit/s") != std::string::npos);
}

TEST_CASE("total bandwidth above the configured ceiling fires once per window") {
  Fixture f;
  f.config.totalBps = 1'000'000;
  f.config.spikeFactor = 1000;
  f.rebuild();
  turn::AllocationTable table;
  auto& a = table.insert(allocation(1, "192.0.2.8:5000", "u1"));
  auto& b = table.insert(allocation(2, "192.0.2.9:5000", "u2"));
  f.sample(table);
  for (int i = 0; i < 3; ++i) {
    f.clock.advance(seconds(1));
    a.bytesToPeer += 80'000;  // 640 kbit/s each, 1.28 Mbit/s together
    b.bytesToPeer += 80'000;
    f.sample(table);
  }
  CHECK(f.count("total_bandwidth") == 1);
}

}  // namespace
}  // namespace tw::metrics
