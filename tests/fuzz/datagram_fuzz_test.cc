// Datagram fuzz smoke test against the live binary: 10,000 random and
// mutated packets (STUN requests, authenticated requests on a live
// allocation, indications, ChannelData, raw noise). Afterwards the server
// must still be alive, answer a Binding request and exit cleanly.
#include <catch2/catch.hpp>
#include <ctime>

#include "policy/credentials.h"
#include "relay/base/random.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";

std::string config(uint16_t port) {
  return testing::udpListenerYaml("fuzz.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 45000-45999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "peers:\n  allowed: [127.0.0.1/32]\n";
}

/// A REST username valid for the whole test (max_ttl is 24 h).
std::string fuzzUser() {
  static const std::string user = std::to_string(std::time(nullptr) + 3600) + ":fuzz";
  return user;
}

/// Seeds the mutator with valid messages of every kind the server handles.
std::vector<std::vector<uint8_t>> corpus(StunClient& c, const SocketAddress& peer) {
  std::vector<std::vector<uint8_t>> out;
  auto add = [&](stun::Method m, stun::MessageClass cls, auto&& fill) {
    std::vector<uint8_t> buf;
    stun::MessageBuilder b(buf, m, cls, c.newTransactionId());
    fill(b);
    out.emplace_back(b.bytes().begin(), b.bytes().end());
  };
  const std::string user = fuzzUser();
  const auto key = stun::longTermKey(user, "fuzz.test", policy::restPassword(kSecret, user));
  auto auth = [&](stun::MessageBuilder& b) {
    b.addString(stun::attr::Username, user).addString(stun::attr::Realm, "fuzz.test");
    b.addString(stun::attr::Nonce, c.nonce()).addMessageIntegrity(key).addFingerprint();
  };
  add(stun::Method::Binding, stun::MessageClass::Request, [](auto& b) { b.addFingerprint(); });
  add(stun::Method::Allocate, stun::MessageClass::Request, [&](auto& b) {
    b.addRequestedTransport(17).addEvenPort(true);
    auth(b);
  });
  add(stun::Method::CreatePermission, stun::MessageClass::Request, [&](auto& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer);
    auth(b);
  });
  add(stun::Method::ChannelBind, stun::MessageClass::Request, [&](auto& b) {
    b.addChannelNumber(0x4001).addXorAddress(stun::attr::XorPeerAddress, peer);
    auth(b);
  });
  add(stun::Method::Refresh, stun::MessageClass::Request, [&](auto& b) {
    b.addU32(stun::attr::Lifetime, 600);
    auth(b);
  });
  const uint8_t payload[16] = {1, 2, 3};
  add(stun::Method::Send, stun::MessageClass::Indication, [&](auto& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).addBytes(stun::attr::Data, payload);
  });
  std::vector<uint8_t> cd;
  stun::encodeChannelData(cd, 0x4001, payload, false);
  out.push_back(cd);
  return out;
}

std::vector<uint8_t> mutate(const std::vector<uint8_t>& seed, Random& rng) {
  std::vector<uint8_t> m = seed;
  switch (rng.below(5)) {
    case 0:  // flip bytes
      for (uint32_t i = 0, n = 1 + rng.below(8); i < n && !m.empty(); ++i)
        m[rng.below(static_cast<uint32_t>(m.size()))] ^= static_cast<uint8_t>(1 + rng.below(255));
      break;
    case 1:  // truncate
      m.resize(rng.below(static_cast<uint32_t>(m.size()) + 1));
      break;
    case 2:  // extend with noise
      for (uint32_t i = 0, n = rng.below(64); i < n; ++i) m.push_back(static_cast<uint8_t>(rng.u32()));
      break;
    case 3:  // corrupt a length field (message or attribute)
      if (m.size() > 24) m[2 + 4 * rng.below(static_cast<uint32_t>((m.size() - 4) / 4))] = 0xFF;
      break;
    default:  // pure noise
      m.resize(rng.below(1200));
      rng.fill(m);
  }
  return m;
}

}  // namespace

TEST_CASE("10,000 random and mutated datagrams leave the live server answering") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(config(port));
  REQUIRE(server.ready());
  const SocketAddress addr{IpAddress::v4(127, 0, 0, 1), port};
  StunClient c(addr);
  c.setCredentials(fuzzUser(), policy::restPassword(kSecret, fuzzUser()));
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  StunClient peerSock(addr);
  const auto seeds = corpus(c, peerSock.local());
  SeededRandom rng(20261126);
  for (int i = 0; i < 10000; ++i) {
    c.send(mutate(seeds[rng.below(static_cast<uint32_t>(seeds.size()))], rng));
    if (i % 500 == 499)
      while (c.receive(1)) {
      }  // drain answers
  }
  while (c.receive(50)) {
  }
  REQUIRE(server.alive());
  StunClient fresh(addr);
  auto r = fresh.request(stun::Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
  CHECK(server.stop() == 0);
  INFO(server.log().substr(0, 2000));
}
