// Secret rotation against the real binary with short intervals: credentials
// minted with the old secret work until the grace period ends and fail after
// it; an allocation made before the rotation keeps relaying and refreshing;
// `turnwarden rotate` rewrites the keyring offline and a running server picks
// it up; automatic rotation happens on its interval.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "policy/credentials.h"
#include "policy/secrets_file.h"
#include "relay/io/udp_socket.h"
#include "tests/e2e/counting_peer.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

std::string config(uint16_t port, uint16_t peerPort, const std::string& rotation,
                   const std::string& maxTtl = "3s") {
  return testing::udpListenerYaml("rotate.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 48000-48999\n"
         "auth:\n  secrets_file: secrets.yaml\n  max_ttl: " +
         maxTtl + "\n  clock_skew: 0s\n" + rotation +
         "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " + std::to_string(peerPort) + "}]\n";
}

/// A client with a REST credential for `user` minted from `secret`, valid `ttl` s.
StunClient client(uint16_t port, const std::string& secret, const std::string& user, int ttl = 3) {
  StunClient c(SocketAddress{IpAddress::v4(127, 0, 0, 1), port});
  const std::string name = std::to_string(std::time(nullptr) + ttl) + ":" + user;
  c.setCredentials(name, policy::restPassword(secret, name));
  return c;
}

std::vector<policy::Secret> keyring(const ServerProcess& s) {
  auto k = policy::loadSecretsFile(s.dir() + "/secrets.yaml");
  REQUIRE(k.ok());
  return k.value();
}

bool waitForLog(const ServerProcess& s, const std::string& what, int ms) {
  for (int i = 0; i < ms / 20; ++i) {
    if (s.log().find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void sleepUntilUnix(int64_t t) {
  while (std::time(nullptr) < t) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

/// The value of the unlabelled series `name` in one /metrics scrape, or -1.
double scrapeOne(const SocketAddress& at, const std::string& name) {
  auto r = testing::httpGet(at, "/metrics");
  if (!r || r->status != 200) return -1;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

/// Scrapes (bounded, ~10 s) until `ok` holds for `name`; returns the last value.
double scrapeUntil(const SocketAddress& at, const std::string& name, const std::function<bool(double)>& ok) {
  double v = -1;
  for (int i = 0; i < 100; ++i) {
    if (ok(v = scrapeOne(at, name))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

}  // namespace

TEST_CASE("Rotation under traffic: old credentials work through grace, then fail") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, "  rotation: {interval: 1h, grace: 3s}\n"));
  REQUIRE(s.ready());
  const std::string oldSecret = keyring(s).front().value;

  StunClient before = client(port, oldSecret, "alice");
  REQUIRE(before.allocate()->code == 0);
  REQUIRE(before.createPermission(peer.addr)->code == 0);

  // A rotation on the running server (SIGUSR2 = rotate now).
  ::kill(s.pid(), SIGUSR2);
  REQUIRE(waitForLog(s, "keyring rotated (SIGUSR2)", 3000));
  auto ring = keyring(s);
  REQUIRE(ring.size() == 2);
  CHECK(ring[1].value == oldSecret);
  REQUIRE(ring[1].notAfter);
  const std::string newSecret = ring[0].value;
  CHECK(newSecret != oldSecret);
  CHECK(s.log().find(oldSecret) == std::string::npos);  // never logged
  CHECK(s.log().find(newSecret) == std::string::npos);

  // Within grace: the allocation made before keeps relaying and refreshing,
  // and the old secret still verifies new requests.
  before.sendIndication(peer.addr, std::vector<uint8_t>(10, 1));
  CHECK(peer.count() == 1);
  CHECK(before.refresh(600)->code == 0);
  CHECK(client(port, oldSecret, "bob").allocate()->code == 0);
  CHECK(client(port, newSecret, "carol").allocate()->code == 0);

  // After grace: the old secret is refused, the new one works.
  sleepUntilUnix(*ring[1].notAfter + 1);
  StunClient late = client(port, oldSecret, "dave", 2);
  auto refused = late.allocate();
  REQUIRE(refused);
  CHECK(refused->code == 401);
  CHECK(client(port, newSecret, "erin", 2).allocate()->code == 0);
  // The allocation made before the rotation is never dropped by it.
  before.sendIndication(peer.addr, std::vector<uint8_t>(10, 2));
  CHECK(peer.count() == 1);
  // And the server drops the expired secret from the file.
  REQUIRE(waitForLog(s, "keyring pruned (grace ended)", 3000));
  CHECK(keyring(s).size() == 1);
}

TEST_CASE("turnwarden rotate rewrites the keyring, a running server picks it up") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, "", "1h"));
  REQUIRE(s.ready());
  const std::string oldSecret = keyring(s).front().value;
  const std::string cmd = std::string(TW_BINARY) + " rotate --config " + s.dir() + "/turnwarden.yaml > " +
                          s.dir() + "/rotate.out 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto ring = keyring(s);
  REQUIRE(ring.size() == 2);
  CHECK(ring[1].value == oldSecret);
  REQUIRE(waitForLog(s, "keyring reloaded (file changed)", 4000));
  CHECK(client(port, ring[0].value, "alice").allocate()->code == 0);
  CHECK(client(port, oldSecret, "bob").allocate()->code == 0);  // grace = max_ttl
}

TEST_CASE("Automatic rotation happens on its interval") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, "  rotation: {interval: 2s, grace: 3s}\n"));
  REQUIRE(s.ready());
  const std::string first = keyring(s).front().id;
  REQUIRE(waitForLog(s, "keyring rotated (interval)", 8000));
  auto ring = keyring(s);
  CHECK(ring.front().id != first);
  CHECK(client(port, ring.front().value, "alice").allocate()->code == 0);
}

TEST_CASE("Rotations are counted and the minting secret's age is exported") {
  const uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s(config(port, peer.addr.port, "", "1h") + "metrics:\n  listen: 127.0.0.1:0\n");
  REQUIRE(s.ready());
  std::smatch m;
  const std::string log = s.log();
  REQUIRE(std::regex_search(log, m, std::regex("serving http://([0-9.]+:[0-9]+)/metrics")));
  const SocketAddress at = SocketAddress::parse(m[1].str()).value();
  const std::string kRotations = "turnwarden_secret_rotations_total";
  const std::string kAge = "turnwarden_secret_age_seconds";
  // The keyring generated at start-up is not a rotation; its id says when it was made.
  CHECK(scrapeOne(at, kRotations) == 0);
  CHECK(scrapeUntil(at, kAge, [](double v) { return v >= 0 && v < 60; }) < 60);

  ::kill(s.pid(), SIGUSR2);  // a rotation the server performs
  REQUIRE(waitForLog(s, "keyring rotated (SIGUSR2)", 3000));
  CHECK(scrapeUntil(at, kRotations, [](double v) { return v == 1; }) == 1);

  // A keyring rewritten outside the server, whose new minting secret was made
  // an hour ago (its generated id records that): picked up, counted, aged.
  auto ring = keyring(s);
  const int64_t hourAgo = std::time(nullptr) - 3600;
  ring.insert(ring.begin(), policy::Secret{policy::secretIdFor(hourAgo), std::string(64, 'c'), {}});
  REQUIRE(policy::writeSecretsFile(s.dir() + "/secrets.yaml", ring).ok());
  REQUIRE(waitForLog(s, "keyring reloaded (file changed)", 4000));
  CHECK(scrapeUntil(at, kRotations, [](double v) { return v == 2; }) == 2);
  const double age = scrapeUntil(at, kAge, [](double v) { return v >= 3600; });
  CHECK(age >= 3600);
  CHECK(age < 3600 + 120);

  // Rewriting the file with the same minting secret (a prune) is not a rotation.
  ring.pop_back();
  REQUIRE(policy::writeSecretsFile(s.dir() + "/secrets.yaml", ring).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(scrapeOne(at, kRotations) == 2);
}
