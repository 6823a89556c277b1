// The credentials endpoint against the real binary: credentials come from the
// keyring in force (after `turnwarden rotate`, from the new secret) and the
// ones handed out before keep authenticating Allocates until they expire; a
// SIGHUP reloads the JWKS file with the rest of the config.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "policy/credentials.h"
#include "policy/secrets_file.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;
using tw::testing::TestKey;

namespace {

constexpr const char* kIss = "https://app.e2e.test";

struct Jwks {
  Jwks() {
    char tmpl[] = "/tmp/tw-credentials-e2e.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~Jwks() { std::filesystem::remove_all(dir); }
  void write(const TestKey& key, const std::string& kid) const {
    std::ofstream(dir + "/jwks.json.tmp") << testing::jwksOf({key.jwk(kid)});
    std::filesystem::rename(dir + "/jwks.json.tmp", file());
  }
  std::string file() const { return dir + "/jwks.json"; }
  std::string dir;
};

/// `relayPorts`: each test case its own range, as ctest may run them at once.
std::string config(uint16_t port, const std::string& jwksFile, const std::string& relayPorts) {
  return testing::udpListenerYaml("cred.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: " + relayPorts +
         "\n"
         "auth:\n  secrets_file: secrets.yaml\n  max_ttl: 1h\n  clock_skew: 0s\n"
         "credentials:\n  listen: 127.0.0.1:0\n  jwks_file: " +
         jwksFile + "\n  issuer: " + kIss + "\n  audience: turn\n  ttl: 4s\n";
}

struct Credential {
  int status = 0;
  std::string username, password;
};

Credential post(const ServerProcess& s, const std::string& token) {
  auto at = testing::servedAddress(s.log(), "credentials");
  REQUIRE(at);
  auto r = testing::httpRequest(*at, "POST", "/v1/credentials", "Authorization: Bearer " + token + "\r\n");
  REQUIRE(r);
  if (r->status != 200) return {r->status, "", ""};
  const auto server = nlohmann::json::parse(r->body)["iceServers"][0];
  return {r->status, server["username"], server["credential"]};
}

std::string token(const TestKey& key, const std::string& kid, const std::string& sub) {
  return key.token(kid, testing::claims(kIss, "turn", sub, std::time(nullptr) + 600));
}

int allocateWith(uint16_t port, const Credential& c) {
  StunClient client(SocketAddress{IpAddress::v4(127, 0, 0, 1), port});
  client.setCredentials(c.username, c.password);
  auto reply = client.allocate();
  return reply ? reply->code : -1;
}

std::string mintingSecret(const ServerProcess& s) {
  auto ring = policy::loadSecretsFile(s.dir() + "/secrets.yaml");
  REQUIRE(ring.ok());
  return ring->front().value;
}

}  // namespace

TEST_CASE(
    "Credentials endpoint: after turnwarden rotate new credentials use the new secret, old ones work until "
    "they expire") {
  Jwks jwks;
  const TestKey key = TestKey::generate(policy::JwtAlg::EdDSA);
  jwks.write(key, "app-1");
  const uint16_t port = testing::freeUdpPort();
  ServerProcess s(config(port, jwks.file(), "43000-43099"));
  REQUIRE(s.ready());

  const std::string oldSecret = mintingSecret(s);
  const Credential before = post(s, token(key, "app-1", "alice"));
  REQUIRE(before.status == 200);
  CHECK(before.password == policy::restPassword(oldSecret, before.username));

  const std::string rotate =
      std::string(TW_BINARY) + " rotate --config " + s.dir() + "/turnwarden.yaml >/dev/null 2>&1";
  REQUIRE(std::system(rotate.c_str()) == 0);
  REQUIRE(testing::occurrences(s.log(), "keyring reloaded (file changed)") == 0);
  for (int i = 0; i < 1000 && testing::occurrences(s.log(), "keyring reloaded (file changed)") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(testing::occurrences(s.log(), "keyring reloaded (file changed)") == 1);
  const std::string newSecret = mintingSecret(s);
  REQUIRE(newSecret != oldSecret);

  const Credential after = post(s, token(key, "app-1", "alice"));
  REQUIRE(after.status == 200);
  CHECK(after.password == policy::restPassword(newSecret, after.username));
  CHECK(after.password != policy::restPassword(oldSecret, after.username));

  // Both authenticate: the old secret still verifies through its grace period.
  CHECK(allocateWith(port, before) == 0);
  CHECK(allocateWith(port, after) == 0);
  // Until the earlier credential's own expiry (ttl 4s, clock_skew 0s).
  const int64_t expiry = std::stoll(before.username.substr(0, before.username.find(':')));
  while (std::time(nullptr) <= expiry) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(allocateWith(port, before) == 401);
  CHECK(s.stop() == 0);
}

TEST_CASE("Credentials endpoint: SIGHUP reloads the JWKS file, so the app can rotate its own keys") {
  Jwks jwks;
  const TestKey first = TestKey::generate(policy::JwtAlg::RS256);
  const TestKey second = TestKey::generate(policy::JwtAlg::ES256);
  jwks.write(first, "k1");
  const uint16_t port = testing::freeUdpPort();
  const std::string yaml = config(port, jwks.file(), "43100-43199");
  ServerProcess s(yaml);
  REQUIRE(s.ready());
  CHECK(post(s, token(first, "k1", "bob")).status == 200);
  CHECK(post(s, token(second, "k2", "bob")).status == 401);

  jwks.write(second, "k2");
  REQUIRE(testing::reloadWith(s, yaml, "reload ok"));
  const Credential c = post(s, token(second, "k2", "bob"));
  CHECK(c.status == 200);
  CHECK(post(s, token(first, "k1", "bob")).status == 401);
  CHECK(allocateWith(port, c) == 0);

  // A JWKS that no longer parses is refused like any bad config: the keys stay.
  std::ofstream(jwks.file()) << "{\"keys\": [";
  REQUIRE(testing::reloadWith(s, yaml, "keeping policy generation"));
  CHECK(s.log().find("credentials.jwks_file: the JWKS file") != std::string::npos);
  CHECK(post(s, token(second, "k2", "bob")).status == 200);
  CHECK(s.stop() == 0);
}

TEST_CASE("Credentials endpoint: behind a trusted proxy each forwarded client has its own per-IP bucket") {
  Jwks jwks;
  TestKey key = TestKey::generate(policy::JwtAlg::ES256);
  jwks.write(key, "k1");
  const uint16_t port = testing::freeUdpPort();
  // The test plays the proxy from 127.0.0.1, which is trusted.
  ServerProcess s(config(port, jwks.file(), "43200-43299") + "trusted_proxies: [127.0.0.1]\n");
  REQUIRE(s.ready());
  auto at = testing::servedAddress(s.log(), "credentials");
  REQUIRE(at);
  auto postVia = [&](const std::string& bearer, const std::string& client) {
    auto r =
        testing::httpRequest(*at, "POST", "/v1/credentials",
                             "Authorization: Bearer " + bearer + "\r\nX-Forwarded-For: " + client + "\r\n");
    REQUIRE(r);
    return r->status;
  };
  // Bad tokens from one client until its bucket (burst 200, 20/s) runs dry: at
  // least 230, bounded in count (the refill races a slow machine's requests).
  int sent = 0;
  bool limited = false;
  while (sent < 3000 && (sent < 230 || !limited)) {
    limited = postVia("not-a-jwt", "203.0.113.1") == 429;
    ++sent;
  }
  REQUIRE(limited);
  CHECK(postVia(token(key, "k1", "bob"), "203.0.113.2") == 200);  // another client is served
}
