// One look at a keyring file (policy/keyring_poll.h), as the server takes
// once a second for the global keyring and each realm's: a rewritten file is
// loaded, a due rotation is done, an ended grace is pruned, a bad file is
// refused once with its file and line.
#include "policy/keyring_poll.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "policy/secrets_file.h"

using namespace tw;
using namespace tw::policy;

namespace {
constexpr int64_t kNow = 1'800'000'000;
const Secret kFirst{"k1", "firstfirstfirstfirstfirstfirst00", std::nullopt};
const Secret kSecond{"k2", "secondsecondsecondsecondsecond00", std::nullopt};

struct KeyringDir {
  std::string dir, path;
  KeyringDir() {
    char tmpl[] = "/tmp/tw_keyring_poll.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/realm.yaml";
  }
  ~KeyringDir() { std::filesystem::remove_all(dir); }
};

std::vector<std::string> ids(const std::vector<Secret>& secrets) {
  std::vector<std::string> out;
  for (const auto& s : secrets) out.push_back(s.id);
  return out;
}
}  // namespace

TEST_CASE("pollKeyringFile: nothing to do, then a rewritten file is loaded once", "[keyring]") {
  KeyringDir k;
  REQUIRE(writeSecretsFile(k.path, {kFirst}).ok());
  SeededRandom rng(1);
  int64_t seen = fileStampNs(k.path).value();
  const KeyringFileWatch watch{k.path, std::nullopt, 3600};
  auto idle = pollKeyringFile(watch, {kFirst}, seen, rng, kNow, std::chrono::seconds(1));
  CHECK_FALSE(idle.change);
  CHECK(idle.errors.empty());

  REQUIRE(writeSecretsFile(k.path, {kSecond, kFirst}).ok());
  auto loaded = pollKeyringFile(watch, {kFirst}, seen, rng, kNow, std::chrono::seconds(1));
  REQUIRE(loaded.change);
  CHECK(loaded.why == "reloaded (file changed)");
  CHECK(ids(loaded.change->secrets) == std::vector<std::string>{"k2", "k1"});
  CHECK(seen == fileStampNs(k.path).value());
  CHECK_FALSE(
      pollKeyringFile(watch, loaded.change->secrets, seen, rng, kNow, std::chrono::seconds(1)).change);
}

TEST_CASE("pollKeyringFile: a broken rewrite is refused once, naming the file", "[keyring]") {
  KeyringDir k;
  REQUIRE(writeSecretsFile(k.path, {kFirst}).ok());
  SeededRandom rng(1);
  int64_t seen = fileStampNs(k.path).value();
  std::ofstream(k.path, std::ios::trunc) << "secrets:\n  - {id: k1, value: short}\n";
  const KeyringFileWatch watch{k.path, std::nullopt, 3600};
  auto refused = pollKeyringFile(watch, {kFirst}, seen, rng, kNow, std::chrono::seconds(1));
  CHECK_FALSE(refused.change);
  REQUIRE_FALSE(refused.errors.empty());
  CHECK_THAT(refused.errors[0], Catch::StartsWith("keyring change refused: " + k.path + ":2:"));
  auto again = pollKeyringFile(watch, {kFirst}, seen, rng, kNow, std::chrono::seconds(1));
  CHECK(again.errors.empty());  // reported once per change
}

TEST_CASE("pollKeyringFile: a due rotation puts a new secret first, an ended grace is pruned", "[keyring]") {
  KeyringDir k;
  REQUIRE(writeSecretsFile(k.path, {kFirst}).ok());
  SeededRandom rng(1);
  int64_t seen = fileStampNs(k.path).value();
  const int64_t written = fileMtime(k.path).value();
  const KeyringFileWatch watch{k.path, RotationConfig{std::chrono::hours(24), std::chrono::hours(25)},
                               25 * 3600};
  auto rotated = pollKeyringFile(watch, {kFirst}, seen, rng, written + 86400, std::chrono::seconds(1));
  REQUIRE(rotated.change);
  CHECK(rotated.why == "rotated (interval)");
  REQUIRE(rotated.change->secrets.size() == 2);
  CHECK(rotated.change->secrets[1].id == "k1");
  CHECK(rotated.change->secrets[1].notAfter == written + 86400 + 25 * 3600);
  CHECK(seen == rotated.change->stampNs);

  const KeyringFileWatch manual{k.path, std::nullopt, 25 * 3600};
  const int64_t after = written + 86400 + 25 * 3600 + 1;
  auto pruned = pollKeyringFile(manual, rotated.change->secrets, seen, rng, after, std::chrono::seconds(1));
  REQUIRE(pruned.change);
  CHECK(pruned.why == "pruned (grace ended)");
  CHECK(pruned.change->secrets.size() == 1);
  CHECK(pruned.change->secrets[0].id == rotated.change->secrets[0].id);
}
