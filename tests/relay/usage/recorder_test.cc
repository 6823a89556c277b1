// Usage records from one worker's events (usage/recorder.*, usage/record.*):
// ids and sequence, interim periods that add up to the final totals, and the
// JSON line read back exactly.
#include "relay/usage/recorder.h"

#include <catch2/catch.hpp>

#include "relay/base/clock.h"

using namespace tw;
using namespace tw::usage;

namespace {

struct Collected final : RecordSink {
  void put(const UsageRecord& r) override { records.push_back(r); }
  std::vector<UsageRecord> records;
};

turn::Allocation allocation(const ManualClock& clock) {
  turn::Allocation a;
  a.id = 7;
  a.tuple = FiveTuple{*SocketAddress::parse("203.0.113.5:40000"), *SocketAddress::parse("198.51.100.1:3478"),
                      Transport::Udp};
  a.username = "1700003600:alice";
  a.user = "alice";
  a.realm = "usage.test";
  a.relayed = a.advertised = *SocketAddress::parse("192.0.2.1:50000");
  a.created = clock.now();
  return a;
}

}  // namespace

TEST_CASE("recorder: interim records every tick and a final one add up to the totals") {
  ManualClock clock;
  Collected sink;
  UsageRecorder rec(clock, RecordNaming{"node-a", 1234}, sink);
  turn::Allocation a = allocation(clock);
  const int64_t created = clock.unixSeconds();
  rec.onAllocationCreated(a);
  clock.advance(std::chrono::seconds(5));
  a.bytesToPeer = 1000, a.packetsToPeer = 10, a.bytesToClient = 400, a.packetsToClient = 4;
  rec.onUsageInterval(a);
  clock.advance(std::chrono::seconds(5));
  a.bytesToPeer = 1500, a.packetsToPeer = 15;
  a.peersGranted = 2, a.channelsBound = 1;
  rec.onUsageInterval(a);
  clock.advance(std::chrono::seconds(2));
  a.bytesToClient = 900, a.packetsToClient = 9;
  rec.onAllocationDeleted(a, "deleted");
  CHECK(rec.tracked() == 0);

  REQUIRE(sink.records.size() == 3);
  Traffic sum;
  for (size_t i = 0; i < 3; ++i) {
    const UsageRecord& r = sink.records[i];
    CHECK(r.seq == i);
    CHECK(r.recordId == "node-a-1234-7-" + std::to_string(i));
    CHECK(r.final == (i == 2));
    CHECK(r.start == created);
    CHECK(r.user == "alice");
    CHECK(r.client == "203.0.113.5:40000");
    CHECK(r.transport == "udp");
    CHECK(r.relayed == std::vector<std::string>{"192.0.2.1:50000"});
    sum += r.period;
  }
  CHECK(sink.records[0].period == Traffic{1000, 400, 10, 4});
  CHECK(sink.records[1].period == Traffic{500, 0, 5, 0});
  CHECK(sink.records[2].period == Traffic{0, 500, 0, 5});
  CHECK(sum == sink.records[2].total);
  CHECK(sink.records[0].periodStart == created);
  CHECK(sink.records[1].periodStart == sink.records[0].periodEnd);
  CHECK(sink.records[2].periodEnd == created + 12);
  CHECK(sink.records[2].endReason == "deleted");
  CHECK(sink.records[2].peers == 2);
  CHECK(sink.records[2].channels == 1);
}

TEST_CASE("record: the JSON line reads back as the same record") {
  ManualClock clock;
  Collected sink;
  UsageRecorder rec(clock, RecordNaming{"n1", 99}, sink);
  turn::Allocation a = allocation(clock);
  a.user = "we\"ird\nname";
  a.bytesToPeer = 12345678901, a.packetsToPeer = 3;
  rec.onAllocationDeleted(a, "shutdown");  // never seen created: a zero baseline
  REQUIRE(sink.records.size() == 1);
  const std::string line = formatRecord(sink.records[0]);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line whatever the user name holds
  CHECK(line.rfind("{\"schema\":1,\"type\":\"final\",", 0) == 0);
  auto back = parseRecord(line);
  REQUIRE(back);
  CHECK(back->final);
  CHECK(back->user == "we\"ird\nname");
  CHECK(back->endReason == "shutdown");
  CHECK(back->period.bytesToPeer == 12345678901);
  CHECK(back->total == sink.records[0].total);
  CHECK(back->periodEnd == sink.records[0].periodEnd);
  CHECK(back->recordId == "n1-99-7-0");
  CHECK(back->relayed == sink.records[0].relayed);
}

TEST_CASE("record: what is not a schema 1 record says why") {
  CHECK(parseRecord("not json").error() == "not a JSON object");
  CHECK(parseRecord("[1,2]").error() == "not a JSON object");
  CHECK(parseRecord("{\"schema\":2}").error() == "not a schema 1 usage record");
  CHECK(parseRecord("{\"schema\":1,\"type\":\"final\"}").error() == "missing or mistyped \"record_id\"");
  CHECK(parseRecord("{\"schema\":1,\"type\":\"other\"}").error() == "\"type\" is neither interim nor final");
}
