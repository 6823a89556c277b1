// Tenants apart against the live binary (issue 22, finding 4): two realms on
// two loopback listeners, each with its own keyring and its own allowed
// loopback peer. A REST credential is valid only in the realm whose keyring
// signed it, so it can neither authenticate on the other tenant's listener
// nor reach the other tenant's private peer; `turnwarden credential --realm`
// and a credentials endpoint bound to a realm mint for that realm only.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "policy/credentials.h"
#include "policy/secrets_file.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecretA = "tenantAtenantAtenantAtenantA0000";
constexpr const char* kIss = "https://app.tenants.test";

struct Ports {
  uint16_t a = testing::freeUdpPort();
  uint16_t b = 0;
  Ports() {
    do b = testing::freeUdpPort();
    while (b == a);
  }
};

/// Realm a.example (the top-level one, auth.secrets) on ports.a, realm
/// b.example (its own keyring file, generated on first start) on ports.b;
/// each realm allows only its own loopback peer. Then `extra`.
std::string config(const Ports& p, uint16_t peerA, uint16_t peerB, const std::string& relayPorts,
                   const std::string& extra = "") {
  const std::string a = std::to_string(p.a), b = std::to_string(p.b);
  return "realm: a.example\n"
         "workers: 2\n"
         "listeners:\n"
         "  - {transport: udp, address: 127.0.0.1, port: " +
         a +
         "}\n"
         "  - {transport: udp, address: 127.0.0.1, port: " +
         b +
         ", realm: b.example}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: " +
         relayPorts +
         "\n"
         "auth:\n  secrets: [{id: a1, value: \"" +
         kSecretA +
         "\"}]\n"
         "  realms:\n    b.example: {secrets_file: b-secrets.yaml}\n"
         "peers:\n  realms:\n"
         "    a.example: {allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerA) +
         "}]}\n"
         "    b.example: {allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerB) + "}]}\n" + extra;
}

/// The secret b.example mints with: the keyring the server generated.
std::string secretB(const ServerProcess& s) {
  auto ring = policy::loadSecretsFile(s.dir() + "/b-secrets.yaml");
  REQUIRE(ring.ok());
  return ring->front().value;
}

StunClient client(uint16_t port, const std::string& name, const std::string& password) {
  StunClient c(SocketAddress{IpAddress::v4(127, 0, 0, 1), port});
  c.setCredentials(name, password);
  return c;
}

int allocateCode(uint16_t port, const std::string& name, const std::string& password) {
  auto c = client(port, name, password);
  auto r = c.allocate();
  return r ? r->code : -1;
}

}  // namespace

TEST_CASE("Tenants: A's credential gets 401 on B, B's works on B, A cannot reach B's allowed peer") {
  const Ports ports;
  CountingPeer peerA, peerB;
  ServerProcess s(config(ports, peerA.addr.port, peerB.addr.port, "42000-42199"));
  REQUIRE(s.ready());
  const std::string nameA = testing::restName("alice"), passA = policy::restPassword(kSecretA, nameA);
  const std::string nameB = testing::restName("bea"), passB = policy::restPassword(secretB(s), nameB);
  REQUIRE(secretB(s) != kSecretA);

  // A's credential on B's listener: 401, with B's realm in the challenge.
  StunClient aOnB = client(ports.b, nameA, passA);
  auto refused = aOnB.allocate();
  REQUIRE(refused);
  CHECK(refused->code == 401);
  CHECK(aOnB.realm() == "b.example");
  CHECK(aOnB.createPermission(peerB.addr)->code == 401);
  CHECK(allocateCode(ports.a, nameB, passB) == 401);  // and B's on A's

  // B's credential on B: allocates, opens B's peer and relays to it.
  StunClient bOnB = client(ports.b, nameB, passB);
  REQUIRE(bOnB.allocate()->code == 0);
  CHECK(bOnB.createPermission(peerB.addr)->code == 0);
  for (int i = 0; i < 3; ++i) bOnB.sendIndication(peerB.addr, std::vector<uint8_t>(20, 0xb));
  CHECK(peerB.count() == 3);

  // A's credential on A: its own peer yes, B's allowed peer no.
  StunClient aOnA = client(ports.a, nameA, passA);
  REQUIRE(aOnA.allocate()->code == 0);
  CHECK(aOnA.createPermission(peerB.addr)->code == 403);
  CHECK(aOnA.createPermission(peerA.addr)->code == 0);
  for (int i = 0; i < 3; ++i) aOnA.sendIndication(peerB.addr, std::vector<uint8_t>(20, 0xa));
  CHECK(peerB.count() == 0);
  CHECK(s.log().find("generated a new 256-bit secret in " + s.dir() + "/b-secrets.yaml") !=
        std::string::npos);
  CHECK(s.alive());
}

TEST_CASE("Tenants: turnwarden credential --realm mints with that realm's keyring and lists its URIs") {
  const Ports ports;
  ServerProcess s(config(ports, 9, 9, "42200-42399"));
  REQUIRE(s.ready());
  const std::string cmd =
      std::string(TW_BINARY) + " credential --config " + s.dir() + "/turnwarden.yaml --user carol --ttl 10m";
  const auto b = testing::runCommand(cmd + " --realm b.example");
  REQUIRE(b.status == 0);
  const auto jb = nlohmann::json::parse(b.out);
  CHECK(jb["uris"] ==
        nlohmann::json::array({"turn:127.0.0.1:" + std::to_string(ports.b) + "?transport=udp"}));
  CHECK(allocateCode(ports.b, jb["username"], jb["password"]) == 0);
  CHECK(allocateCode(ports.a, jb["username"], jb["password"]) == 401);

  const auto a = testing::runCommand(cmd);  // default: the top-level realm
  REQUIRE(a.status == 0);
  const auto ja = nlohmann::json::parse(a.out);
  CHECK(ja["uris"] ==
        nlohmann::json::array({"turn:127.0.0.1:" + std::to_string(ports.a) + "?transport=udp"}));
  CHECK(allocateCode(ports.a, ja["username"], ja["password"]) == 0);
  CHECK(allocateCode(ports.b, ja["username"], ja["password"]) == 401);

  const auto unknown = testing::runCommand(cmd + " --realm c.example 2>&1");
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.out, Catch::Contains("serves realm 'c.example'"));
}

TEST_CASE("Tenants: turnwarden rotate --realm rotates B's own keyring, the server takes it within a second") {
  const Ports ports;
  ServerProcess s(config(ports, 9, 9, "42700-42899"));
  REQUIRE(s.ready());
  const std::string before = secretB(s);
  const std::string oldName = testing::restName("erin");
  const std::string oldPass = policy::restPassword(before, oldName);
  const auto run = testing::runCommand(std::string(TW_BINARY) + " rotate --config " + s.dir() +
                                       "/turnwarden.yaml --realm b.example");
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("rotated " + s.dir() + "/b-secrets.yaml"));
  const std::string after = secretB(s);
  REQUIRE(after != before);
  const std::string marker = "realm b.example keyring reloaded (file changed)";
  for (int i = 0; i < 300 && testing::occurrences(s.log(), marker) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(testing::occurrences(s.log(), marker) == 1);
  const std::string newName = testing::restName("erin");
  CHECK(allocateCode(ports.b, newName, policy::restPassword(after, newName)) == 0);
  CHECK(allocateCode(ports.b, oldName, oldPass) == 0);  // the old secret verifies through its grace
  CHECK(allocateCode(ports.a, newName, policy::restPassword(after, newName)) == 401);
  // The top-level keyring is inline here: rotating it is refused, B's untouched.
  const auto top =
      testing::runCommand(std::string(TW_BINARY) + " rotate --config " + s.dir() + "/turnwarden.yaml 2>&1");
  CHECK(top.status == 2);
  CHECK(secretB(s) == after);
}

TEST_CASE("Tenants: a credentials endpoint bound to realm B mints B's credentials and B's URIs only") {
  char tmpl[] = "/tmp/tw-tenants-e2e.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const auto key = testing::TestKey::generate(policy::JwtAlg::EdDSA);
  std::ofstream(dir + "/jwks.json") << testing::jwksOf({key.jwk("app-1")});
  const Ports ports;
  ServerProcess s(config(ports, 9, 9, "42400-42599",
                         "credentials:\n  listen: 127.0.0.1:0\n  jwks_file: " + dir +
                             "/jwks.json\n  issuer: " + kIss + "\n  audience: turn\n  realm: b.example\n"));
  REQUIRE(s.ready());
  auto at = testing::servedAddress(s.log(), "credentials");
  REQUIRE(at);
  const std::string token =
      key.token("app-1", testing::claims(kIss, "turn", "dave", std::time(nullptr) + 600));
  auto r = testing::httpRequest(*at, "POST", "/v1/credentials", "Authorization: Bearer " + token + "\r\n");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const auto server = nlohmann::json::parse(r->body)["iceServers"][0];
  CHECK(server["urls"] ==
        nlohmann::json::array({"turn:127.0.0.1:" + std::to_string(ports.b) + "?transport=udp"}));
  const std::string name = server["username"], password = server["credential"];
  CHECK(password == policy::restPassword(secretB(s), name));
  CHECK(allocateCode(ports.b, name, password) == 0);
  CHECK(allocateCode(ports.a, name, password) == 401);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Tenants: check-config refuses a listener realm without a keyring, naming the fix") {
  char tmpl[] = "/tmp/tw-tenants-e2e.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const Ports ports;
  std::string text = config(ports, 9, 9, "42600-42699");
  const std::string realms = "  realms:\n    b.example: {secrets_file: b-secrets.yaml}\n";
  text.replace(text.find(realms), realms.size(), "");
  std::ofstream(dir + "/bad.yaml") << text;
  const auto out = testing::runCommand(std::string(TW_BINARY) + " check-config " + dir + "/bad.yaml 2>&1");
  CHECK(out.status == 2);
  CHECK_THAT(out.out,
             Catch::Contains("bad.yaml:5:") && Catch::Contains("listener realm 'b.example' has no keyring"));
  std::filesystem::remove_all(dir);
}
