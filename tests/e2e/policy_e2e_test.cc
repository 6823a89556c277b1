// Live policy against the real binary (issue 4): a reload that denies a
// peer stops traffic to it within one packet; bad reloads of every error
// class keep relaying and the old rules; brute force from 127.0.0.2 is
// banned while 127.0.0.1 is served; quotas answer 486; a flood of
// unauthenticated Allocates from 10,000 source ports leaves memory flat.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "policy/credentials.h"
#include "relay/io/udp_socket.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::reloadWith;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "policypolicypolicypolicypolicy00";

struct Ports {
  uint16_t listen = testing::freeUdpPort();
};

std::string baseConfig(uint16_t port, const std::string& extra, const std::string& authExtra = "") {
  return testing::udpListenerYaml("policy.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47000-47999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret + "\"}]\n" + authExtra + extra;
}

StunClient authed(const SocketAddress& server, const std::string& user, const char* local = "127.0.0.1:0") {
  return testing::restClient(server, kSecret, user, local);
}

std::vector<uint8_t> bytes(size_t n) { return std::vector<uint8_t>(n, 0x42); }

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

TEST_CASE("A reload that denies a peer stops traffic to it within one packet") {
  Ports p;
  CountingPeer peer;
  const std::string allow =
      "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " + std::to_string(peer.addr.port) + "}]\n";
  ServerProcess s(baseConfig(p.listen, allow));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  StunClient c = authed(server, "alice");
  REQUIRE(c.allocate()->code == 0);
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  for (int i = 0; i < 3; ++i) c.sendIndication(peer.addr, bytes(20));
  CHECK(peer.count() == 3);

  REQUIRE(reloadWith(s, baseConfig(p.listen, ""), "reload ok"));
  c.sendIndication(peer.addr, bytes(20));
  CHECK(peer.count() == 0);
  CHECK(s.log().find("reload revoked peer=" + peer.addr.toString()) != std::string::npos);
  CHECK(c.createPermission(peer.addr)->code == 403);
  CHECK(c.refresh(600)->code == 0);  // the allocation itself lives on
}

TEST_CASE("A bad reload of any error class keeps relaying and the old rules") {
  Ports p;
  CountingPeer peer;
  const std::string allow =
      "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " + std::to_string(peer.addr.port) + "}]\n";
  const std::string good = baseConfig(p.listen, allow);
  ServerProcess s(good);
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  StunClient c = authed(server, "alice");
  REQUIRE(c.allocate()->code == 0);
  REQUIRE(c.createPermission(peer.addr)->code == 0);

  const std::string openSecrets = s.dir() + "/open-secrets.yaml";
  std::ofstream(openSecrets) << "secrets:\n  - {id: a, value: \"" << kSecret << "\"}\n";
  ::chmod(openSecrets.c_str(), 0644);
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"yaml syntax", good + "quotas: {per_user: [\n"},
      {"unknown key", good + "quotas: {per_usr: 3}\n"},
      {"bad value", good + "quotas: {per_user: -1}\n"},
      {"bad type", good + "bans: {failed_auth: {window: soon}}\n"},
      {"inconsistent", good + "quotas: {max_bps: 100, total_bps: 10}\n"},
      {"missing realm", "listeners: []\n"},
      {"world-readable secrets file",
       testing::udpListenerYaml("policy.test", p.listen) + "auth:\n  secrets_file: " + openSecrets + "\n"},
      {"empty file", ""},
  };
  for (const auto& [what, yaml] : bad) {
    INFO(what);
    REQUIRE(reloadWith(s, yaml, "keeping policy generation"));
    c.sendIndication(peer.addr, bytes(20));
    CHECK(peer.count() == 1);  // relaying intact
    // Old rules in force: 10.0.0.1 still denied, the allowed peer allowed.
    CHECK(c.createPermission(*SocketAddress::parse("10.0.0.1:80"))->code == 403);
    CHECK(c.createPermission(peer.addr)->code == 0);
  }
  CHECK(s.alive());
}

TEST_CASE("Brute force from one source on 127.0.0.2 is banned, its neighbours are served") {
  Ports p;
  ServerProcess s(baseConfig(p.listen,
                             "bans:\n  failed_auth: {threshold: 5, window: 60s, ban_for: 10m}\n"
                             "rate_limits:\n  unauthenticated_per_ip: {rate: 100, burst: 100}\n"));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  StunClient attacker = authed(server, "alice", "127.0.0.2:0");
  attacker.setCredentials(std::to_string(std::time(nullptr) + 3600) + ":alice", "guess");
  int answered = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = attacker.allocate();
    answered += r.has_value();
  }
  CHECK(answered < 10);
  CHECK(s.log().find("banned ip=127.0.0.2") != std::string::npos);
  CHECK_FALSE(attacker.request(stun::Method::Binding));  // that source gets nothing
  // Bans are per source address: another user behind the same IP is served.
  StunClient neighbour = authed(server, "carol", "127.0.0.2:0");
  CHECK(neighbour.allocate()->code == 0);
  StunClient good = authed(server, "bob");
  CHECK(good.allocate()->code == 0);
}

TEST_CASE("A reload adding a blocked user ends its allocations on the live binary") {
  Ports p;
  ServerProcess s(baseConfig(p.listen, ""));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  StunClient alice = authed(server, "alice"), bob = authed(server, "bob");
  REQUIRE(alice.allocate()->code == 0);
  REQUIRE(bob.allocate()->code == 0);
  REQUIRE(reloadWith(s, baseConfig(p.listen, "", "  blocked_users: [alice]\n"), "reload ok"));
  CHECK(alice.refresh(600)->code == 403);
  CHECK(s.log().find("reason=blocked") != std::string::npos);
  CHECK(authed(server, "alice").allocate()->code == 403);
  CHECK(bob.refresh(600)->code == 0);  // other users untouched
}

TEST_CASE("Quotas answer 486 on the live binary") {
  Ports p;
  ServerProcess s(baseConfig(p.listen, "quotas: {per_user: 1, per_ip: 2}\n"));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  const std::string alice = testing::restName("alice");  // one credential, two clients
  StunClient a1 = testing::restClientNamed(server, kSecret, alice);
  StunClient a2 = testing::restClientNamed(server, kSecret, alice);
  StunClient b = authed(server, "bob"), c = authed(server, "carol");
  REQUIRE(a1.allocate()->code == 0);
  CHECK(a2.allocate()->code == 486);  // per_user
  REQUIRE(b.allocate()->code == 0);
  CHECK(c.allocate()->code == 486);  // per_ip
  REQUIRE(a1.refresh(0)->code == 0);
  CHECK(a2.allocate()->code == 0);  // recovered
}

TEST_CASE("A flood of unauthenticated Allocates from 10,000 source ports leaves memory flat") {
  // Under AddressSanitizer (the asan stage of scripts/test) the fake stacks of
  // detect_stack_use_after_return (mapped per thread as frames are first used) grew
  // RSS by 13 MB in this test, and freed memory waits in a quarantine. This server
  // runs without both, so RSS measures what it keeps; every other ASan check, leaks
  // included, stays on.
  if (const char* asan = std::getenv("ASAN_OPTIONS"))
    setenv("ASAN_OPTIONS",
           (std::string(asan) + ":detect_stack_use_after_return=0:quarantine_size_mb=0").c_str(), 1);
  Ports p;
  ServerProcess s(baseConfig(p.listen, ""));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 1), p.listen};
  // Warm up (first allocations of buffers and tables), then measure.
  for (int i = 0; i < 50; ++i) StunClient(server).allocate();
  const long before = rssKb(s.pid());
  REQUIRE(before > 0);
  std::vector<uint8_t> req;
  for (int i = 0; i < 10000; ++i) {
    StunClient c(server);  // a fresh source port each time
    stun::MessageBuilder b(req, stun::Method::Allocate, stun::MessageClass::Request, c.newTransactionId());
    b.addRequestedTransport(17);
    c.send(b.bytes());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long after = rssKb(s.pid());
  INFO("VmRSS before " << before << " kB, after " << after << " kB");
  CHECK(after - before < 4096);  // generous: the stateless design needs ~0
  CHECK(s.alive());
  WARN("VmRSS before " << before << " kB, after " << after << " kB");
}
