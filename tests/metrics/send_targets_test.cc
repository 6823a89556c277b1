#include "metrics/send_targets.h"

#include <catch2/catch.hpp>

#include "metrics/anomaly.h"
#include "relay/turn/allocation.h"

namespace tw::metrics {
namespace {

using std::chrono::seconds;

SocketAddress port(uint16_t p) { return SocketAddress{*IpAddress::parse("198.51.100.2"), p}; }

/// A SeededRandom that counts how often a seed was drawn.
struct CountingRandom final : Random {
  void fill(std::span<uint8_t> out) override {
    ++draws;
    inner.fill(out);
  }
  SeededRandom inner{11};
  int draws = 0;
};

struct Worker {
  ManualClock clock;
  CountingRandom seeds;
  SendTargets sends{clock, seeds};
  turn::AllocationTable table;
  policy::AnomaliesConfig config;
  turn::Allocation& add(uint64_t id) {
    auto a = std::make_unique<turn::Allocation>();
    a->id = id;
    a->tuple = FiveTuple{*SocketAddress::parse("192.0.2.1:" + std::to_string(4000 + id)),
                         *SocketAddress::parse("127.0.0.1:3478"), Transport::Udp};
    return table.insert(std::move(a));
  }
  /// The sample of allocation `id` in this second's round.
  AllocationSample sample(uint64_t id) {
    for (AllocationSample& s : sampleAllocations(table, sends, config, clock.now()))
      if (s.id == id) return s;
    FAIL("allocation " << id << " not sampled");
    return {};
  }
};

TEST_CASE("send targets: only allocations that sent have an entry, deletion erases it") {
  Worker w;
  turn::Allocation& quiet = w.add(1);
  turn::Allocation& a = w.add(2);
  turn::Allocation& b = w.add(3);
  for (int i = 0; i < 5; ++i) w.sends.onSendTarget(a, port(uint16_t(6000 + i)));
  w.sends.onSendTarget(b, port(6000));
  CHECK(w.sends.size() == 2);  // `quiet` never sent: no tracker
  CHECK(w.sends.distinct(quiet.id) == 0);
  CHECK(w.sends.distinct(a.id) == 5);
  CHECK(w.seeds.draws == 2);  // one seed per allocation, at its first Send only
  w.sends.onAllocationDeleted(a, "deleted");
  CHECK(w.sends.size() == 1);
  CHECK(w.sends.distinct(a.id) == 0);
  CHECK(w.sends.distinct(b.id) == 1);
  w.sends.onAllocationDeleted(quiet, "expired");  // never sent: nothing to erase
  w.sends.onAllocationDeleted(b, "shutdown");
  CHECK(w.sends.size() == 0);
}

TEST_CASE("send targets: distinct destinations across the window give the sample's values") {
  Worker w;
  w.config.scanDistinctPeers = 10;
  turn::Allocation& a = w.add(5);
  uint16_t p = 7000;
  // Three destinations a second, each sent to twice, sampled every second.
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 3; ++i, ++p)
      for (int twice = 0; twice < 2; ++twice) w.sends.onSendTarget(a, port(p));
    w.clock.advance(seconds(1));
    CHECK(w.sample(a.id).sendDistinct == 0);  // at most 9 so far
  }
  while (w.sends.distinct(a.id) < 10) w.sends.onSendTarget(a, port(p++));
  CHECK(p - 7000 <= 12);  // a hash collision or two at most
  w.clock.advance(seconds(1));
  const AllocationSample s = w.sample(a.id);
  CHECK(s.sendDistinct == 10);
  CHECK(s.sendLast == port(uint16_t(p - 1)));
  CHECK(s.id == a.id);
  // Reported once: the count starts again and the next sample is quiet.
  CHECK(w.sends.distinct(a.id) == 0);
  w.clock.advance(seconds(1));
  CHECK(w.sample(a.id).sendDistinct == 0);
}

TEST_CASE("send targets: the window starts at the first Send and rolls after `window`") {
  Worker w;
  w.config.scanDistinctPeers = 10;
  turn::Allocation& a = w.add(6);
  w.clock.advance(seconds(30));  // an idle allocation: no window yet
  for (uint16_t i = 0; i < 6; ++i) w.sends.onSendTarget(a, port(i + 1));
  w.clock.advance(seconds(59));
  CHECK(w.sample(a.id).sendDistinct == 0);
  CHECK(w.sends.distinct(a.id) == 6);  // 59 s after the first Send: same window
  w.clock.advance(seconds(1));
  CHECK(w.sample(a.id).sendDistinct == 0);
  CHECK(w.sends.distinct(a.id) == 0);  // 60 s: a new window, the 6 are gone
  for (uint16_t i = 0; i < 6; ++i) w.sends.onSendTarget(a, port(i + 1));
  CHECK(w.sends.distinct(a.id) == 6);  // the same destinations count again
  w.config.scanDistinctPeers = 0;      // 0 disables: never reported
  for (uint16_t i = 100; i < 200; ++i) w.sends.onSendTarget(a, port(i));
  CHECK(w.sample(a.id).sendDistinct == 0);
}

}  // namespace
}  // namespace tw::metrics
