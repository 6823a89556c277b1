// Carrier-grade NAT against the real binary with the default policy
// (issue 10, docs/policy.md "Shared addresses"): 300 users behind one
// address (127.0.0.9), each setting up a call (Allocate + CreatePermission)
// at 30 per second, are all served, whether each has its own REST user or
// all share the quick start's `expiry:webrtc`; one abusive source behind the
// same address is rate-limited and banned without taking the others down.
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "cgnatcgnatcgnatcgnatcgnatcgnat00";
constexpr const char* kNat = "127.0.0.9:0";  // the carrier's one public address
constexpr int kUsers = 300;

/// Only what a deployment must say (listener, relay address, secret) and a
/// peer to reach: every quota, rate limit and ban keeps its default.
std::string defaultConfig(uint16_t port, const CountingPeer& peer) {
  return testing::udpListenerYaml("cgnat.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 46000-46999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peer.addr.port) + "}]\n";
}

using Namer = std::function<std::string(int)>;

/// Sets up one call per user at 30 per second; returns the clients that got
/// both answers, each keeping its allocation.
std::vector<std::unique_ptr<StunClient>> setUpCalls(const SocketAddress& server, const CountingPeer& peer,
                                                    const Namer& name) {
  std::vector<std::unique_ptr<StunClient>> served;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kUsers; ++i) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(i * 1000 / 30));
    auto c = std::make_unique<StunClient>(testing::restClientNamed(server, kSecret, name(i), kNat));
    auto a = c->allocate();
    if (!a || a->code != 0) {
      UNSCOPED_INFO("user " << i << ": " << (a ? a->code : -1));
      continue;
    }
    auto p = c->createPermission(peer.addr);
    if (p && p->code == 0) served.push_back(std::move(c));
  }
  return served;
}

/// Every client sends one datagram through its allocation: how many arrive.
/// In batches of 50, so the peer's socket buffer never overflows.
int relayOnce(std::vector<std::unique_ptr<StunClient>>& clients, CountingPeer& peer) {
  int got = 0;
  for (size_t i = 0; i < clients.size(); i += 50) {
    const size_t end = std::min(clients.size(), i + 50);
    for (size_t j = i; j < end; ++j) clients[j]->sendIndication(peer.addr, std::vector<uint8_t>(40, 7));
    const int want = got + static_cast<int>(end - i);
    for (int k = 0; k < 20 && got < want; ++k) got += peer.count(50);
  }
  return got;
}

/// The live binary with the default policy, a peer, and the expiry of
/// this run's per-user credentials.
struct Live {
  uint16_t port = testing::freeUdpPort();
  CountingPeer peer;
  ServerProcess s{defaultConfig(port, peer)};
  SocketAddress server{IpAddress::v4(127, 0, 0, 1), port};
  std::string expiry = std::to_string(std::time(nullptr) + 3600);
  Namer ownUser() const {
    return [e = expiry](int i) { return e + ":user" + std::to_string(i); };
  }
};

}  // namespace

TEST_CASE("300 users behind one NAT address, each its own REST user: 300 of 300") {
  Live live;
  REQUIRE(live.s.ready());
  auto served = setUpCalls(live.server, live.peer, live.ownUser());
  CHECK(served.size() == kUsers);
  CHECK(relayOnce(served, live.peer) == static_cast<int>(served.size()));
  CHECK(live.s.log().find("rate_limited") == std::string::npos);
}

TEST_CASE("300 users behind one NAT address sharing the user name webrtc: 300 of 300") {
  Live live;
  REQUIRE(live.s.ready());
  // Minted as the quick start does, when each call starts: everyone who
  // starts in the same second holds the very same credential (~30 here).
  auto served = setUpCalls(live.server, live.peer, [](int) { return testing::restName("webrtc", 86400); });
  CHECK(served.size() == kUsers);
  CHECK(relayOnce(served, live.peer) == static_cast<int>(served.size()));
}

TEST_CASE("One abusive source behind the NAT address is limited and banned, 299 users are not") {
  Live live;
  REQUIRE(live.s.ready());
  auto& [port, peer, s, server, expiry] = live;
  auto users = setUpCalls(server, peer, live.ownUser());
  users.resize(std::min<size_t>(users.size(), kUsers - 1));
  REQUIRE(users.size() == kUsers - 1);

  // The abuser: one socket behind the same address. First a request flood
  // (5000 Bindings as fast as it can send them): its own bucket (burst 100)
  // answers a hundred or so and drops the rest.
  StunClient abuser(server, {}, *SocketAddress::parse(kNat));
  const std::string source = abuser.local().toString();
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> req;
    stun::MessageBuilder(req, stun::Method::Binding, stun::MessageClass::Request, abuser.newTransactionId());
    abuser.send(req);
  }
  int answers = 0;
  while (abuser.receive(300)) ++answers;
  CHECK(answers >= 50);
  CHECK(answers <= 300);
  CHECK(s.log().find("drop reason=rate_limited source=" + source) != std::string::npos);

  // Then password guessing: more than 20 failures ban that source.
  std::this_thread::sleep_for(std::chrono::seconds(2));  // its request bucket refills
  abuser.setCredentials(expiry + ":user0", "guess");
  const std::string banned = "banned ip=127.0.0.9 port=" + std::to_string(abuser.local().port);
  int guesses = 0;
  for (; guesses < 40 && s.log().find(banned) == std::string::npos; ++guesses) abuser.allocate();
  CHECK(guesses <= 12);  // two failures per guess: the 21st failure bans
  CHECK(s.log().find(banned) != std::string::npos);
  CHECK_FALSE(abuser.request(stun::Method::Binding));  // that source gets nothing now

  // The 299 others: every allocation still refreshes and relays...
  int refreshed = 0;
  for (auto& c : users) {
    auto r = c->refresh(600);
    refreshed += r && r->code == 0;
  }
  CHECK(refreshed == kUsers - 1);
  CHECK(relayOnce(users, peer) == kUsers - 1);
  // ...and a new user behind the same address still gets in.
  StunClient late = testing::restClientNamed(server, kSecret, expiry + ":late", kNat);
  auto a = late.allocate();
  REQUIRE(a);
  CHECK(a->code == 0);
}
