#include "policy/rotation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "policy/config.h"
#include "policy/secrets_file.h"

using namespace tw::policy;

namespace {
const Secret kOld{"k1", std::string(64, 'a'), std::nullopt};
const Secret kGone{"k0", std::string(64, 'b'), 999};
}  // namespace

TEST_CASE("rotateKeyring: new 256-bit secret first, previous kept until grace, expired dropped") {
  tw::CsprngRandom rng;
  auto next = rotateKeyring({kOld, kGone}, rng, 1000, 90000);
  REQUIRE(next.size() == 2);
  CHECK(next[0].value.size() == 64);  // 32 bytes in hex
  CHECK(next[0].value != kOld.value);
  CHECK_FALSE(next[0].notAfter);
  CHECK(next[0].id == "k19700101-001640");
  CHECK(next[1].id == "k1");
  CHECK(next[1].notAfter == 1000 + 90000);
  // A second rotation in the same second gets a distinct id and keeps the
  // earlier (shorter) not_after of the oldest secret.
  auto again = rotateKeyring(next, rng, 1000, 200000);
  REQUIRE(again.size() == 3);
  CHECK(again[0].id == "k19700101-001640-2");
  CHECK(again[2].notAfter == 91000);
  CHECK(again[1].notAfter == 201000);
  Keyring ring(again);
  CHECK(ring.minting(1000)->id == again[0].id);
}

TEST_CASE("withoutExpired and rotationDue") {
  CHECK(withoutExpired({kOld, kGone}, 1000).size() == 1);
  CHECK(withoutExpired({kOld, kGone}, 999).size() == 2);
  CHECK_FALSE(rotationDue(100, 199, std::chrono::seconds(100)));
  CHECK(rotationDue(100, 200, std::chrono::seconds(100)));
  CHECK_FALSE(rotationDue(100, 100000, tw::Duration{0}));
}

TEST_CASE("rotateSecretsFile rewrites the keyring atomically with mode 0600") {
  char tmpl[] = "/tmp/tw_rotation_test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string path = std::string(tmpl) + "/secrets.yaml";
  tw::CsprngRandom rng;
  auto made = generateSecretsFile(path, rng, 5000);
  REQUIRE(made.ok());
  auto rotated = rotateSecretsFile(path, rng, 6000, 3600);
  REQUIRE(rotated.ok());
  auto back = loadSecretsFile(path);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK(back.value()[1].value == made.value()[0].value);
  CHECK(back.value()[1].notAfter == 9600);
  CHECK(back.value()[0].value == rotated->secrets[0].value);
  CHECK(rotated->written);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(fileMtime(path).has_value());
  std::filesystem::remove_all(tmpl);
}

TEST_CASE("auth.rotation is parsed and validated") {
  const std::string head = "realm: r.example\nauth:\n  secrets_file: /tmp/nowhere/s.yaml\n  max_ttl: 24h\n";
  auto ok = parseConfig(head + "  rotation: {interval: 7d, grace: 25h}\n", "c.yaml");
  if (!ok) FAIL(formatErrors(ok.error()));
  REQUIRE(ok->auth.rotation);
  CHECK(ok->auth.rotation->interval == std::chrono::hours(24 * 7));
  CHECK(ok->auth.rotation->grace == std::chrono::hours(25));
  auto shortGrace = parseConfig(head + "  rotation: {interval: 7d, grace: 1h}\n", "c.yaml");
  REQUIRE_FALSE(shortGrace.ok());
  CHECK_THAT(formatErrors(shortGrace.error()),
             Catch::Contains("c.yaml:5:13: auth.rotation: grace (1h) must be at least max_ttl (1d)"));
  auto inlineSecrets = parseConfig(
      "realm: r\nauth:\n  secrets: [{id: a, value: \"0123456789abcdef0123\"}]\n  max_ttl: 1h\n"
      "  rotation: {interval: 1d, grace: 2h}\n",
      "c.yaml");
  REQUIRE_FALSE(inlineSecrets.ok());
  CHECK_THAT(formatErrors(inlineSecrets.error()), Catch::Contains("needs auth.secrets_file"));
  auto missing = parseConfig(head + "  rotation: {interval: 7d}\n", "c.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(formatErrors(missing.error()), Catch::Contains("grace"));
}
