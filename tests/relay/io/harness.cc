#include "tests/relay/io/harness.h"

#include <catch2/catch.hpp>

namespace tw::testing {

std::string harnessConfig(uint16_t portMin, uint16_t portMax, const std::string& extra) {
  return "realm: test.realm\n"
         "listeners:\n  - {transport: udp, address: 127.0.0.1, port: 3478}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: " +
         std::to_string(portMin) + "-" + std::to_string(portMax) +
         "\n"
         "auth:\n  secrets:\n    - {id: k1, value: \"" +
         kSecret + "\"}\n  max_ttl: 24h\n  clock_skew: 5m\n" + extra;
}

Harness::Harness(const std::string& extraYaml, int portSpan) {
  const uint16_t first = static_cast<uint16_t>(20000 + rng.below(40000 - portSpan));
  auto parsed = policy::parseConfig(harnessConfig(first, first + portSpan - 1, extraYaml),
                                    "harness.yaml");
  if (!parsed) FAIL(policy::formatErrors(parsed.error()));
  config = parsed.value();
  std::array<uint8_t, 32> key{};
  rng.fill(key);
  nonces = std::make_unique<policy::NonceService>(key, config.auth.nonceLifetime);
  relays.add(config.relay.addresses[0], config.relay.addresses[0], config.relay.portMin,
             config.relay.portMax);
  holder = std::make_unique<policy::PolicyHolder>(policy::buildSnapshot(config, 1, {}));
  worker = std::make_unique<io::Worker>(
      io::WorkerDeps{clock, rng, events, relays, *nonces, *holder, log});
  REQUIRE(worker->addUdpListener(*SocketAddress::parse("127.0.0.1:0")).ok());
  address = worker->listenerAddresses().front();
  // Now that the port is known, deny relaying to the server's own listener.
  holder->store(policy::buildSnapshot(config, 2, {address}));
}

Harness::~Harness() { worker.reset(); }

void Harness::pump() { event_base_loop(worker->base(), EVLOOP_NONBLOCK); }

void Harness::advance(Duration d) {
  clock.advance(d);
  worker->server().tick();
}

StunClient Harness::client() {
  return StunClient(address, [this] { pump(); });
}

std::pair<std::string, std::string> Harness::credential(const std::string& user, int64_t ttl) {
  std::string name = std::to_string(clock.unixSeconds() + ttl) + ":" + user;
  return {name, policy::restPassword(kSecret, name)};
}

StunClient Harness::authedClient(const std::string& user) {
  StunClient c = client();
  auto [name, pass] = credential(user);
  c.setCredentials(name, pass);
  return c;
}

}  // namespace tw::testing
