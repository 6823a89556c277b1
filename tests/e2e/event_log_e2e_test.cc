// The security event log of the live binary, written to events.file:
// hostile usernames (quotes, newlines, %n, ANSI escapes) arrive escaped on
// one line each, and SIGUSR1 reopens the file after logrotate renamed it.
#include <catch2/catch.hpp>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;

namespace {

std::string config(uint16_t port, const std::string& eventsFile) {
  return testing::udpListenerYaml("events.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47500-47599\n"
         "auth:\n  secrets: [{id: k1, value: \"eventseventseventseventsevents00\"}]\n"
         "metrics:\n  enabled: false\n"
         "events:\n  file: " +
         eventsFile + "\n  sample_window: 1s\n";
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Waits (bounded) until `path` has at least `n` lines.
std::vector<std::string> awaitLines(const std::string& path, size_t n) {
  auto l = lines(path);
  for (int i = 0; i < 100 && l.size() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    l = lines(path);
  }
  return l;
}

void failAuth(uint16_t port, const std::string& name) {
  testing::StunClient c(*SocketAddress::parse("127.0.0.1:" + std::to_string(port)));
  c.setCredentials(std::to_string(std::time(nullptr) + 600) + ":" + name, "wrong");
  REQUIRE(c.allocate());
}

}  // namespace

TEST_CASE("live event log: hostile usernames stay inert, SIGUSR1 reopens the file") {
  char tmpl[] = "/tmp/tw-evlog-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string file = dir + "/events.jsonl";
  const uint16_t port = testing::freeUdpPort();
  testing::ServerProcess server(config(port, file));
  REQUIRE(server.ready());
  auto first = awaitLines(file, 1);  // the start-up reload event
  REQUIRE(first.size() == 1);
  CHECK(first[0].find(R"("type":"reload","severity":"info")") != std::string::npos);

  failAuth(port, "ev\"il\nname %n%s \x1b[31mred\x1b[0m");
  auto l = awaitLines(file, 2);
  REQUIRE(l.size() == 2);  // one line: the newline did not split it
  CHECK(l[1].find(R"(:ev\"il\nname %n%s \u001b[31mred\u001b[0m","client_ip":"127.0.0.1")") !=
        std::string::npos);
  CHECK(l[1].find('\x1b') == std::string::npos);

  std::filesystem::rename(file, file + ".1");
  REQUIRE(::kill(server.pid(), SIGUSR1) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the 1 s sampling window
  failAuth(port, "after-rotate");
  auto fresh = awaitLines(file, 1);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].find(":after-rotate\"") != std::string::npos);
  CHECK(lines(file + ".1").size() == 2);
  CHECK(server.stop() == 0);
  std::filesystem::remove_all(dir);
}
