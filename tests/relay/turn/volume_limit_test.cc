// quotas.bytes_per_user (relay/turn/volume_book.*, turn_server_usage.cc):
// counted at the 1 s tick across allocations, enforced by taking the
// allocation's permissions and channels, refused with 486 on Refresh,
// CreatePermission and Allocate, and reset by the next window.
#include "relay/turn/volume_book.h"
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;

namespace {

const std::string kVolume = kAllowPeers + "quotas:\n  bytes_per_user: {limit: 1000, window: 1h}\n";

/// ChannelData of `n` payload bytes on channel 0x4001.
std::vector<uint8_t> channelData(size_t n) {
  std::vector<uint8_t> cd{0x40, 0x01, uint8_t(n >> 8), uint8_t(n)};
  cd.resize(4 + n, 'x');
  return cd;
}

/// Counts the volume events.
struct VolumeEvents : turn::RelayEvents {
  void onVolumeExceeded(const turn::Allocation& a, uint64_t u, uint64_t l) override {
    user = a.user;
    used = u;
    limit = l;
    ++count;
  }
  std::string user;
  uint64_t used = 0, limit = 0;
  int count = 0;
};

}  // namespace

TEST_CASE("volume_book: windows aligned to the epoch, counts reset with the window") {
  turn::VolumeBook book;
  const policy::VolumeLimit v{100, std::chrono::seconds(60)};
  std::vector<turn::VolumeCharge> c{{"alice", 60}, {"bob", 10}, {"alice", 50}};
  book.charge(c, 120, v);
  CHECK(book.used("alice", 150, v) == 110);
  CHECK(book.isOver("alice", 179, v));
  CHECK_FALSE(book.isOver("bob", 179, v));
  auto over = book.over(179, v);
  REQUIRE(over.size() == 1);
  CHECK(over[0].user == "alice");
  CHECK(over[0].bytes == 110);
  CHECK(book.used("alice", 180, v) == 0);  // the next window
  CHECK(book.over(180, v).empty());
  CHECK_FALSE(book.isOver("alice", 100, policy::VolumeLimit{0, std::chrono::seconds(60)}));
}

TEST_CASE("volume limit: relaying stops within one tick, then 486 with a reason") {
  VolumeEvents events;  // outlives p: its server reports to it until the end
  Pipeline p(kVolume);
  p.server = nullptr;  // rebuilt with the recording sink
  p.server = std::make_unique<turn::TurnServer>(
      turn::ServerDeps{p.clock, p.rng, p.io, events, p.relays, *p.nonces}, p.policy);
  auto c = allocated(p);
  auto other = allocated(p, "alice", "203.0.113.6:40000");  // the same user, a second allocation
  REQUIRE(c.channelBind(0x4001, kPeer)->code == 0);
  const auto cd = channelData(600);
  p.feed(c.tuple(), cd);
  p.feed(c.tuple(), cd);  // 1200 bytes: over 1000, but only the tick counts
  CHECK(p.io.toPeer.size() == 2);
  p.advance(std::chrono::seconds(1));
  CHECK(events.count == 2);  // both of alice's allocations stopped
  CHECK(events.user == "alice");
  CHECK(events.used == 1200);
  CHECK(events.limit == 1000);
  p.feed(c.tuple(), cd);
  CHECK(p.io.toPeer.size() == 2);  // dropped: the channel is gone
  auto refresh = c.refresh(600);
  REQUIRE(refresh);
  CHECK(refresh->code == 486);
  CHECK(c.createPermission(kPeer)->code == 486);
  CHECK(other.refresh(600)->code == 486);
  auto fresh = PipelineClient::authed(p, "alice", "203.0.113.7:40000");
  CHECK(fresh.allocate()->code == 486);
  CHECK(PipelineClient::authed(p, "bob", "203.0.113.8:40000").allocate()->code == 0);
  CHECK(c.refresh(0)->code == 0);  // deleting is always allowed
}

TEST_CASE("volume limit: a new window lets the user relay again") {
  Pipeline p(kAllowPeers + "quotas:\n  bytes_per_user: {limit: 100, window: 1m}\n");
  auto c = allocated(p);
  REQUIRE(c.channelBind(0x4001, kPeer)->code == 0);
  p.feed(c.tuple(), channelData(200));
  p.advance(std::chrono::seconds(1));
  CHECK(c.refresh(600)->code == 486);
  p.advance(std::chrono::seconds(60));  // the next 1-minute window
  CHECK(c.refresh(600)->code == 0);
  CHECK(c.channelBind(0x4001, kPeer)->code == 0);
  p.io.toPeer.clear();
  p.feed(c.tuple(), channelData(50));
  CHECK(p.io.toPeer.size() == 1);
}

TEST_CASE("volume limit: off by default costs nothing and refuses nothing") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  REQUIRE(c.channelBind(0x4001, kPeer)->code == 0);
  for (int i = 0; i < 10; ++i) p.feed(c.tuple(), channelData(1000));
  p.advance(std::chrono::seconds(1));
  CHECK(c.refresh(600)->code == 0);
  const turn::Allocation* a = p.server->allocations().find(c.tuple());
  REQUIRE(a);
  CHECK(a->packetsToPeer == 10);
  CHECK(a->bytesToPeer == 10000);
  CHECK(a->volumeCharged == 0);
}

TEST_CASE("volume_book: in a fleet, the fleet's total plus what is not sent yet counts") {
  turn::VolumeBook book;
  const policy::VolumeLimit v{1000, std::chrono::seconds(3600)};
  book.enableFleet();
  book.charge(std::vector<turn::VolumeCharge>{{"alice", 300}}, 7200, v);
  turn::VolumeBatch sent = book.takeUnsent();
  REQUIRE(sent.charges.size() == 1);
  CHECK(sent.window == 2);
  CHECK(sent.windowSeconds == 3600);
  CHECK(book.takeUnsent().charges.empty());
  book.setFleetTotals(sent.window, {{"alice", 900}, {"bob", 1500}});  // other nodes relayed 600
  CHECK(book.used("alice", 7201, v) == 900);
  book.charge(std::vector<turn::VolumeCharge>{{"alice", 150}}, 7202, v);
  CHECK(book.used("alice", 7202, v) == 1050);  // 900 in the fleet + 150 not sent yet
  auto over = book.over(7202, v);
  REQUIRE(over.size() == 2);  // alice, and bob who relayed only on other nodes
  CHECK(book.isOver("bob", 7202, v));
  turn::VolumeBatch again = book.takeUnsent();
  book.giveBack(again);  // Redis was away: sent with the next batch
  CHECK(book.takeUnsent().charges.at(0).bytes == 150);
  book.setFleetTotals(1, {{"carol", 5000}});  // a stale window's answer is ignored
  CHECK_FALSE(book.isOver("carol", 7203, v));
}

TEST_CASE("volume_book: a re-read asks for every user charged in the window") {
  turn::VolumeBook book;
  const policy::VolumeLimit v{1000, std::chrono::seconds(60)};
  book.enableFleet();
  book.charge(std::vector<turn::VolumeCharge>{{"alice", 10}, {"bob", 20}}, 600, v);
  CHECK(book.takeUnsent().charges.size() == 2);
  book.charge(std::vector<turn::VolumeCharge>{{"bob", 5}}, 601, v);
  turn::VolumeBatch all = book.takeUnsent(true);
  REQUIRE(all.charges.size() == 2);
  CHECK(all.charges[0].user == "bob");
  CHECK(all.charges[0].bytes == 5);
  CHECK(all.charges[1].user == "alice");
  CHECK(all.charges[1].bytes == 0);
}
