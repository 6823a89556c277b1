// auth.realms (policy/config_realms.cc): a keyring and static users per
// realm, so a REST credential minted for one tenant verifies in no other
// realm; a realm without a keyring is refused unless the operator shares
// the global one in so many words.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "policy/config.h"
#include "policy/snapshot.h"
#include "tests/policy/config_text.h"

using namespace tw;
using namespace tw::policy;

namespace {

constexpr const char* kFile = "conf/tenants.yaml";
constexpr const char* kGlobal = "globalglobalglobalglobalglobal00";
constexpr const char* kTenantA = "tenantAtenantAtenantAtenantA0000";

/// The top-level realm b.example on :3479 and tenant a.example on :3478,
/// then `realms`: the body of auth.realms (indented by 4), then `extra`.
std::string tenants(const std::string& realms, const std::string& extra = "") {
  return std::string(
             "realm: b.example\n"
             "listeners:\n"
             "  - {transport: udp, address: 127.0.0.1, port: 3478, realm: a.example}\n"
             "  - {transport: udp, address: 127.0.0.1, port: 3479}\n"
             "auth:\n"
             "  secrets: [{id: g1, value: \"") +
         kGlobal +
         "\"}]\n  users: [{name: bob, key: 0123456789abcdef0123456789abcdef}]\n"
         "  realms:\n" +
         realms + extra;
}

std::string ownKeyring() {
  return std::string("    a.example:\n      secrets: [{id: a1, value: \"") + kTenantA +
         "\"}]\n      users: [{name: ann, key: fedcba9876543210fedcba9876543210}]\n";
}

Config parsed(const std::string& yaml) { return testing::parsedConfig(yaml, kFile); }
std::string errorsOf(const std::string& yaml) { return testing::configErrors(yaml, kFile); }

std::vector<std::string> ids(const Keyring* k) {
  std::vector<std::string> out;
  if (k)
    for (const Secret& s : k->secrets()) out.push_back(s.id);
  return out;
}

std::vector<std::string> names(std::span<const StaticUser> users) {
  std::vector<std::string> out;
  for (const StaticUser& u : users) out.push_back(u.name);
  return out;
}

}  // namespace

TEST_CASE("auth.realms gives a realm its own keyring and users, the global ones stay the top-level realm's",
          "[realms][auth]") {
  const Config c = parsed(tenants(ownKeyring()));
  REQUIRE(c.auth.realms.size() == 1);
  CHECK(c.auth.realms[0].realm == "a.example");
  CHECK_FALSE(c.auth.realms[0].useGlobalKeyring);
  const auto snap = buildSnapshot(c, 1, {});
  CHECK(ids(snap->keyringFor("a.example")) == std::vector<std::string>{"a1"});
  CHECK(ids(snap->keyringFor("b.example")) == std::vector<std::string>{"g1"});
  CHECK(snap->keyringFor("c.example") == nullptr);  // no listener: nothing verifies
  CHECK(names(snap->usersFor("a.example")) == std::vector<std::string>{"ann"});
  CHECK(names(snap->usersFor("b.example")) == std::vector<std::string>{"bob"});
  CHECK(snap->usersFor("c.example").empty());
  // The CLI's view: the secrets that mint for each realm.
  REQUIRE(realmSecrets(c, "a.example"));
  CHECK(realmSecrets(c, "a.example")->front().value == kTenantA);
  CHECK(realmSecrets(c, "b.example") == &c.auth.secrets);
  CHECK(realmSecrets(c, "c.example") == nullptr);
}

TEST_CASE("a credential minted with one realm's keyring yields no key in the other realm", "[realms][auth]") {
  const auto snap = buildSnapshot(parsed(tenants(ownKeyring())), 1, {});
  const int64_t now = 1'700'000'000;
  auto cred = mintCredential(*snap->keyringFor("a.example"), "alice", 600, now);
  REQUIRE(cred);
  const auto clientKey = longTermKey(cred->username, "a.example", cred->password);
  std::array<std::array<uint8_t, 16>, 4> keys{};
  REQUIRE(snap->keyringFor("a.example")->candidateKeys(cred->username, "a.example", now, keys) == 1);
  CHECK(keys[0] == clientKey);
  // The same name under realm b.example: b's keyring derives another key.
  const auto asB = longTermKey(cred->username, "b.example", cred->password);
  REQUIRE(snap->keyringFor("b.example")->candidateKeys(cred->username, "b.example", now, keys) == 1);
  CHECK(keys[0] != asB);
}

TEST_CASE("use_global_keyring shares auth.secrets and auth.users with a realm, only when written",
          "[realms][auth]") {
  const Config c = parsed(tenants("    a.example: {use_global_keyring: true}\n"));
  const auto snap = buildSnapshot(c, 1, {});
  CHECK(ids(snap->keyringFor("a.example")) == std::vector<std::string>{"g1"});
  CHECK(names(snap->usersFor("a.example")) == std::vector<std::string>{"bob"});
  CHECK(realmSecrets(c, "a.example") == &c.auth.secrets);
}

TEST_CASE("a listener realm without a keyring is refused with its file, line and the fix", "[realms][auth]") {
  const std::string noRealms =
      "realm: b.example\nlisteners:\n"
      "  - {transport: udp, address: 127.0.0.1, port: 3478, realm: a.example}\n"
      "auth: {secrets: [{id: g1, value: \"" +
      std::string(kGlobal) + "\"}]}\n";
  CHECK_THAT(errorsOf(noRealms),
             Catch::Contains("conf/tenants.yaml:3:61: listener realm 'a.example' has no keyring: "
                             "add auth.realms.a.example"));
  CHECK_THAT(errorsOf(tenants("    a.example: {}\n")),
             Catch::Contains("conf/tenants.yaml:9:16: auth.realms.a.example: no keyring"));
  CHECK_THAT(
      errorsOf(tenants("    a.example: {use_global_keyring: true, secrets_file: a.yaml}\n")),
      Catch::Contains("auth.realms.a.example: set one of secrets, secrets_file and use_global_keyring"));
  CHECK_THAT(errorsOf(tenants("    a.example: {use_global_keyring: yes please}\n")),
             Catch::Contains(
                 "conf/tenants.yaml:9:37: auth.realms.a.example.use_global_keyring: expected true or false"));
}

TEST_CASE("auth.realms entries are checked: unknown keys, unserved realms, the top-level realm, rotation",
          "[realms][auth]") {
  CHECK_THAT(errorsOf(tenants(ownKeyring() + "    c.example: {use_global_keyring: true}\n")),
             Catch::Contains("conf/tenants.yaml:12:5: auth.realms: realm 'c.example' is not the realm of "
                             "any listener"));
  CHECK_THAT(errorsOf(tenants(ownKeyring() + "    b.example: {use_global_keyring: true}\n")),
             Catch::Contains("conf/tenants.yaml:12:5: auth.realms: 'b.example' is the top-level realm"));
  CHECK_THAT(errorsOf(tenants("    a.example: {use_global_keyring: true, secret: []}\n")),
             Catch::Contains("auth.realms.a.example: unknown key 'secret'"));
  CHECK_THAT(
      errorsOf(tenants("    a.example:\n      secrets: [{id: a1, value: \"" + std::string(kTenantA) +
                       "\"}]\n      rotation: {interval: 7d, grace: 25h}\n")),
      Catch::Contains(
          "conf/tenants.yaml:11:17: auth.realms.a.example.rotation: auth.realms.a.example.rotation needs "
          "auth.realms.a.example.secrets_file"));
  CHECK_THAT(errorsOf(tenants("    a.example:\n      secrets_file: a.yaml\n"
                              "      rotation: {interval: 7d, grace: 1h}\n")),
             Catch::Contains("grace (1h) must be at least max_ttl (1d)"));
}

TEST_CASE("a realm's keyring file may not be another keyring's file", "[realms][auth]") {
  const std::string twoFiles =
      "realm: b.example\nlisteners:\n"
      "  - {transport: udp, address: 127.0.0.1, port: 3478, realm: a.example}\n"
      "  - {transport: udp, address: 127.0.0.1, port: 3479, realm: c.example}\n"
      "auth:\n  secrets_file: keys.yaml\n  realms:\n"
      "    a.example: {secrets_file: keys.yaml}\n"
      "    c.example: {secrets_file: a.yaml}\n";
  CHECK_THAT(errorsOf(twoFiles),
             Catch::Contains("conf/tenants.yaml:8:31: auth.realms.a.example.secrets_file: "
                             "the same file as auth.secrets_file"));
  std::string sameAsRealm = twoFiles;
  sameAsRealm.replace(sameAsRealm.find("{secrets_file: keys.yaml}"), 25, "{secrets_file: a.yaml}");
  CHECK_THAT(errorsOf(sameAsRealm), Catch::Contains("auth.realms.c.example.secrets_file: the same file as "
                                                    "auth.realms.a.example.secrets_file"));
}

TEST_CASE("a secret value in two realms' keyrings is refused: it would sign for both", "[realms][auth]") {
  const std::string shared =
      std::string("    a.example:\n      secrets: [{id: a1, value: \"") + kGlobal + "\"}]\n";
  const std::string e = errorsOf(tenants(shared));
  CHECK_THAT(e,
             Catch::Contains("conf/tenants.yaml:10:7: auth.realms.a.example: secret 'a1' has the same value "
                             "as secret 'g1' of auth.secrets"));
  CHECK(e.find(kGlobal) == std::string::npos);  // never echoed
}

TEST_CASE("credentials.realm binds the JWT endpoint to a served realm, default the top-level one",
          "[realms][auth]") {
  const std::string creds = "credentials: {listen: 127.0.0.1:0, jwks_file: j.json, issuer: i, audience: a";
  CHECK(parsed(tenants(ownKeyring(), creds + "}\n")).credentials.realm == "b.example");
  CHECK(parsed(tenants(ownKeyring(), creds + ", realm: a.example}\n")).credentials.realm == "a.example");
  CHECK_THAT(errorsOf(tenants(ownKeyring(), creds + ", realm: c.example}\n")),
             Catch::Contains("conf/tenants.yaml:12:86: credentials.realm: realm 'c.example' is not the realm "
                             "of any listener"));
}

TEST_CASE("a realm's secrets_file is loaded like the global one: private, and errors name it",
          "[realms][auth][secrets]") {
  char tmpl[] = "/tmp/tw_realms_test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const std::string keys = dir + "/a.yaml";
  std::ofstream(keys) << "secrets:\n  - {id: a1, value: \"" << kTenantA << "\"}\n";
  REQUIRE(::chmod(keys.c_str(), 0600) == 0);
  const std::string config = dir + "/tw.yaml";
  std::ofstream(config) << tenants("    a.example: {secrets_file: a.yaml}\n");
  auto loaded = loadConfig(config);
  INFO((loaded.ok() ? "" : formatErrors(loaded.error())));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->auth.realms[0].secrets.size() == 1);
  CHECK(loaded->auth.realms[0].secretsFile == keys);
  CHECK(buildSnapshot(loaded.value(), 1, {})->keyringFor("a.example")->secrets()[0].value == kTenantA);

  REQUIRE(::chmod(keys.c_str(), 0644) == 0);
  auto open = loadConfig(config);
  REQUIRE_FALSE(open.ok());
  CHECK_THAT(formatErrors(open.error()), Catch::Contains(keys));
  std::ofstream(keys) << "secrets:\n  - {id: a1, value: short}\n";
  REQUIRE(::chmod(keys.c_str(), 0600) == 0);
  auto bad = loadConfig(config);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(formatErrors(bad.error()), Catch::Contains(keys + ":2:"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("with fleet:, a realm's own rotation is refused: each node would rotate its own copy",
          "[realms][auth][fleet]") {
  const std::string fleet = "fleet:\n  redis: {address: 127.0.0.1:6379}\n";
  CHECK_THAT(errorsOf(tenants("    a.example:\n      secrets_file: a.yaml\n"
                              "      rotation: {interval: 7d, grace: 25h}\n",
                              fleet)),
             Catch::Contains("conf/tenants.yaml:11:17: auth.realms.a.example.rotation: not available with "
                             "fleet: yet"));
  // Without rotation a fleet node reads the realm's keyring from its own config.
  CHECK(parsed(tenants(ownKeyring(), fleet)).auth.realms.size() == 1);
}
