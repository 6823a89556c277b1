#include "tests/relay/io/harness.h"

#include <catch2/catch.hpp>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "relay/io/udp_socket.h"

namespace tw::testing {

std::string harnessConfig(uint16_t portMin, uint16_t portMax, const std::string& extra) {
  return "realm: test.realm\n"
         "listeners:\n  - {transport: udp, address: 127.0.0.1, port: 3478}\n"
         "relay:\n  addresses: [127.0.0.1]\n  tcp: true\n  port_range: " +
         std::to_string(portMin) + "-" + std::to_string(portMax) +
         "\n"
         "auth:\n  secrets:\n    - {id: k1, value: \"" +
         kSecret + "\"}\n  max_ttl: 24h\n  clock_skew: 5m\n" + extra +
         (harnessIo().empty() ? "" : "io: " + harnessIo() + "\n");
}

std::string& harnessIo() {
  static std::string section;
  return section;
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
  events.add(logEvents);
  worker = std::make_unique<io::Worker>(
      io::WorkerDeps{clock, rng, events, relays, *nonces, *holder, log, nullptr, {}, {}, config.io});
  REQUIRE(worker->addUdpListener(*SocketAddress::parse("127.0.0.1:0")).ok());
  address = worker->listenerAddresses().front();
  // Now that the port is known, deny relaying to the server's own listener.
  holder->store(policy::buildSnapshot(config, 2, {address}));
  worker->pollOnce();  // takes that snapshot now, before a test adjusts the worker
}

Harness::~Harness() { worker.reset(); }

void Harness::pump() { worker->pollOnce(); }

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

TempCert::TempCert() {
  char tmpl[] = "/tmp/tw-cert-test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  dir = tmpl;
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " + dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

TempCert::~TempCert() { std::filesystem::remove_all(dir); }

UdpPeer::UdpPeer(const char* bindTo) {
  fd = std::move(io::openUdpSocket(*SocketAddress::parse(bindTo), false).value());
  addr = *io::localAddress(fd.get());
}

std::optional<std::vector<uint8_t>> UdpPeer::receive(Harness& h, int ms) {
  std::vector<uint8_t> buf(65536);
  for (int i = 0; i < ms; ++i) {
    h.pump();
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    usleep(1000);
  }
  return std::nullopt;
}

void UdpPeer::sendTo(const SocketAddress& to, std::span<const uint8_t> bytes) {
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  ::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace tw::testing
