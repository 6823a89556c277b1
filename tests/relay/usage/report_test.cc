// `turnwarden usage` (usage/report.*): sums by user, realm and client prefix,
// --since and --top, the three formats, and malformed lines reported with
// their line numbers without stopping the report.
#include "relay/usage/report.h"

#include <catch2/catch.hpp>
#include <sstream>

using namespace tw;
using namespace tw::usage;

namespace {

std::string line(const std::string& user, const std::string& realm, const std::string& client, uint64_t alloc,
                 uint32_t seq, uint64_t toPeer, uint64_t toClient, int64_t end) {
  UsageRecord r;
  r.final = seq == 1;
  r.recordId = "n-1-" + std::to_string(alloc) + "-" + std::to_string(seq);
  r.node = "n";
  r.allocationId = alloc;
  r.seq = seq;
  r.realm = realm;
  r.user = user;
  r.username = "1:" + user;
  r.client = client;
  r.transport = "udp";
  r.start = r.periodStart = end - 10;
  r.periodEnd = end;
  r.period = Traffic{toPeer, toClient, toPeer / 100, toClient / 100};
  r.total = r.period;
  r.endReason = r.final ? "expired" : "";
  return formatRecord(r);
}

Report run(const std::string& text, ReportOptions o = {}) {
  std::istringstream in(text);
  return summarize(in, o);
}

const std::string kRecords = line("alice", "a.test", "203.0.113.5:1", 1, 0, 1000, 500, 1000) +
                             line("alice", "a.test", "203.0.113.9:2", 1, 1, 200, 300, 2000) +
                             line("bob", "b.test", "198.51.100.7:3", 2, 0, 5000, 0, 2000) +
                             line("carol", "a.test", "[2001:db8:1:2::5]:4", 3, 1, 100, 100, 3000);

}  // namespace

TEST_CASE("report: by user, most bytes first, records and allocations counted") {
  Report r = run(kRecords);
  CHECK(r.problems.empty());
  CHECK(r.records == 4);
  REQUIRE(r.rows.size() == 3);
  CHECK(r.rows[0].key == "bob");
  CHECK(r.rows[0].traffic.bytes() == 5000);
  CHECK(r.rows[1].key == "alice");
  CHECK(r.rows[1].traffic == Traffic{1200, 800, 12, 8});
  CHECK(r.rows[1].records == 2);
  CHECK(r.rows[1].allocations == 1);
  CHECK(r.rows[2].key == "carol");
}

TEST_CASE("report: by realm and by client prefix") {
  Report realm = run(kRecords, {GroupBy::Realm, {}, 20});
  REQUIRE(realm.rows.size() == 2);
  CHECK(realm.rows[0].key == "b.test");
  CHECK(realm.rows[1].key == "a.test");
  CHECK(realm.rows[1].traffic.bytes() == 2200);
  CHECK(realm.rows[1].allocations == 2);
  Report prefix = run(kRecords, {GroupBy::ClientPrefix, {}, 0});
  REQUIRE(prefix.rows.size() == 3);
  CHECK(prefix.rows[1].key == "203.0.113.0/24");
  CHECK(prefix.rows[1].traffic.bytes() == 2000);
  CHECK(prefix.rows[2].key == "2001:db8:1::/48");
}

TEST_CASE("report: --since keeps periods that ended after it, --top cuts the rows") {
  Report since = run(kRecords, {GroupBy::User, 2000, 20});
  CHECK(since.records == 3);
  REQUIRE(since.rows.size() == 3);
  CHECK(since.rows[1].key == "alice");
  CHECK(since.rows[1].traffic.bytes() == 500);
  Report top = run(kRecords, {GroupBy::User, {}, 1});
  REQUIRE(top.rows.size() == 1);
  CHECK(top.rows[0].key == "bob");
}

TEST_CASE("report: malformed lines are reported with their numbers and skipped") {
  const std::string text = line("alice", "a.test", "203.0.113.5:1", 1, 0, 1000, 0, 1000) +
                           "{\"schema\":1,\"type\":\"interim\"\n" + "\n" + "garbage\n" +
                           line("alice", "a.test", "203.0.113.5:1", 1, 1, 24, 0, 1010) + "{\"schema\":7}\n";
  Report r = run(text);
  REQUIRE(r.problems.size() == 3);
  CHECK(r.problems[0].line == 2);
  CHECK(r.problems[0].error == "not a JSON object");
  CHECK(r.problems[1].line == 4);
  CHECK(r.problems[2].line == 6);
  CHECK(r.problems[2].error == "not a schema 1 usage record");
  REQUIRE(r.rows.size() == 1);
  CHECK(r.rows[0].traffic.bytes() == 1024);
}

TEST_CASE("report: table, csv and json") {
  Report r = run(line("a,b", "x", "203.0.113.5:1", 1, 1, 300, 200, 1000));
  CHECK(render(r, ReportFormat::Csv) ==
        "user,bytes,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client,allocations,records\n"
        "\"a,b\",500,300,200,3,2,1,1\n");
  CHECK(render(r, ReportFormat::Json) ==
        "{\"by\":\"user\",\"records\":1,\"rows\":[{\"key\":\"a,b\",\"bytes\":500,\"bytes_to_peer\":300,"
        "\"bytes_to_client\":200,\"packets_to_peer\":3,\"packets_to_client\":2,\"allocations\":1,"
        "\"records\":1}],\"problems\":[]}\n");
  const std::string table = render(r, ReportFormat::Table);
  CHECK(table.rfind("user  bytes  bytes_to_peer", 0) == 0);
  CHECK(table.find("\na,b   500  300  200  3  2  1  1\n") != std::string::npos);
}
