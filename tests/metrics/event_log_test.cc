#include "metrics/event_log.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "metrics/security_events.h"

namespace tw::metrics {
namespace {

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tw-events-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

FiveTuple from(const char* client) {
  return FiveTuple{*SocketAddress::parse(client), *SocketAddress::parse("127.0.0.1:3478"), Transport::Udp};
}

TEST_CASE("rfc3339 writes UTC with milliseconds") {
  const std::chrono::system_clock::time_point t{std::chrono::milliseconds(1700000000123)};
  CHECK(rfc3339(t) == "2023-11-14T22:13:20.123Z");
}

TEST_CASE("hostile usernames stay inert: one line, escaped, no raw control bytes") {
  SecurityEvent e{"auth_failure",  "warning", "ev\"il\nname %n%s \x1b[31mred\x1b[0m\\", "192.0.2.1", "",
                  "bad_integrity", ""};
  e.ts = std::chrono::system_clock::time_point{std::chrono::seconds(1700000000)};
  const std::string line = formatEvent(e);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find(R"("user":"ev\"il\nname %n%s \u001b[31mred\u001b[0m\\")") != std::string::npos);
  CHECK(line.rfind(R"({"ts":"2023-11-14T22:13:20.000Z","type":"auth_failure","severity":"warning",)", 0) ==
        0);
  for (const char* key :
       {"\"client_ip\":\"192.0.2.1\"", "\"peer\":\"\"", "\"rule\":\"bad_integrity\"", "\"details\":\"\""})
    CHECK(line.find(key) != std::string::npos);
}

TEST_CASE("the event log writes to its file and reopens it after a rename (logrotate)") {
  TempDir dir;
  const std::string path = dir.path + "/events.log";
  EventLog log(path, 100);
  for (int i = 0; i < 3; ++i) REQUIRE(log.push({"reload", "info", "", "", "", "", "ok"}));
  log.flush();
  REQUIRE(lines(path).size() == 3);
  std::filesystem::rename(path, path + ".1");
  log.reopen();
  REQUIRE(log.push({"rotation", "info", "", "", "", "", ""}));
  log.flush();
  CHECK(lines(path + ".1").size() == 3);
  const auto fresh = lines(path);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].find("\"type\":\"rotation\"") != std::string::npos);
}

TEST_CASE("a full queue drops and counts instead of blocking") {
  TempDir dir;
  std::atomic<int> dropped{0};
  EventLog log(dir.path + "/e.log", 0, [&] { ++dropped; });
  for (int i = 0; i < 5; ++i) CHECK_FALSE(log.push({"x", "info", "", "", "", "", ""}));
  CHECK(log.dropped() == 5);
  CHECK(dropped == 5);
}

TEST_CASE("SourceSampler writes one event per source and window and reports the rest") {
  ManualClock clock;
  SourceSampler s(std::chrono::seconds(10), 2);
  const IpAddress a = *IpAddress::parse("192.0.2.1");
  const IpAddress b = *IpAddress::parse("192.0.2.2");
  const IpAddress c = *IpAddress::parse("192.0.2.3");
  CHECK(s.admit(a, clock.now()) == 0u);
  CHECK_FALSE(s.admit(a, clock.now()));
  CHECK_FALSE(s.admit(a, clock.now()));
  CHECK(s.admit(b, clock.now()) == 0u);
  CHECK_FALSE(s.admit(c, clock.now()));  // two sources tracked already
  CHECK(s.overflow() == 1);
  clock.advance(std::chrono::seconds(10));
  CHECK(s.admit(a, clock.now()) == 2u);
  CHECK(s.admit(c, clock.now()) == 0u);  // b's window ended: pruned, room for c
}

TEST_CASE("SecurityEvents samples an auth-failure flood per source") {
  TempDir dir;
  const std::string path = dir.path + "/events.log";
  ManualClock clock;
  EventLog log(path, 100);
  SecurityEvents ev(log, clock, std::chrono::seconds(60));
  for (int i = 0; i < 50; ++i) ev.onAuthFailed("bad_integrity", from("192.0.2.7:4000"), "mallory\n");
  ev.onPeerDenied(*SocketAddress::parse("10.0.0.1:22"), "rfc1918", from("192.0.2.8:4000"), "bob");
  clock.advance(std::chrono::seconds(61));
  ev.onAuthFailed("stale_nonce", from("192.0.2.7:4001"), "mallory");
  log.flush();
  const auto l = lines(path);
  REQUIRE(l.size() == 3);
  CHECK(l[0].find(R"("user":"mallory\n","client_ip":"192.0.2.7")") != std::string::npos);
  CHECK(l[1].find(R"("type":"peer_denied")") != std::string::npos);
  CHECK(l[1].find(R"("peer":"10.0.0.1:22","rule":"rfc1918")") != std::string::npos);
  CHECK(l[2].find("49 similar events") != std::string::npos);
}

}  // namespace
}  // namespace tw::metrics
