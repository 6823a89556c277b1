// The keyring lock (policy/keyring_lock.h): every read-modify-write of the
// keyring file is serialised on "<file>.lock" and re-reads the file under it,
// so concurrent rotations never lose each other's secret.
#include "policy/keyring_lock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "policy/rotation.h"
#include "policy/secrets_file.h"
#include "relay/base/random.h"

using namespace tw::policy;
using namespace std::chrono_literals;

namespace {

struct TempKeyring {
  std::string dir;
  std::string path;
  TempKeyring() {
    char tmpl[] = "/tmp/tw_keyring_lock_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/secrets.yaml";
  }
  ~TempKeyring() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

mode_t modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("the keyring lock is exclusive, bounded and lives in a 0600 sibling file", "[keyring_lock]") {
  TempKeyring k;
  auto first = KeyringLock::acquire(k.path, 1s);
  REQUIRE(first.ok());
  CHECK(keyringLockPath(k.path) == k.path + ".lock");
  CHECK(modeOf(k.path + ".lock") == 0600);
  // Another holder (its own open file description, as another process has)
  // waits, then gives up after its timeout.
  const auto started = std::chrono::steady_clock::now();
  auto second = KeyringLock::acquire(k.path, 100ms);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error(), Catch::Contains("held by another keyring writer"));
  CHECK(std::chrono::steady_clock::now() - started >= 100ms);
  // Released on destruction: the next writer gets it.
  { KeyringLock released = std::move(first.value()); }
  CHECK(KeyringLock::acquire(k.path, 1s).ok());
}

TEST_CASE("a lock path that is a symlink is refused", "[keyring_lock]") {
  TempKeyring k;
  REQUIRE(::symlink((k.dir + "/elsewhere").c_str(), (k.path + ".lock").c_str()) == 0);
  auto lock = KeyringLock::acquire(k.path, 100ms);
  REQUIRE_FALSE(lock.ok());
  CHECK_FALSE(std::filesystem::exists(k.dir + "/elsewhere"));
}

TEST_CASE("updateSecretsFile re-reads the keyring under the lock", "[keyring_lock]") {
  TempKeyring k;
  tw::CsprngRandom rng;
  REQUIRE(generateSecretsFile(k.path, rng, 5000).ok());
  // An edit that leaves the file alone reports the file's keyring.
  auto same = updateSecretsFile(k.path, [](const std::vector<Secret>&) { return std::nullopt; });
  REQUIRE(same.ok());
  CHECK_FALSE(same->written);
  CHECK(same->secrets.size() == 1);
  CHECK(same->stampNs == fileStampNs(k.path));
  // A prune sees a secret added after the caller last read the file.
  auto ring = same->secrets;
  ring.front().notAfter = 5500;
  ring.insert(ring.begin(), Secret{"added", std::string(64, 'a'), std::nullopt});
  REQUIRE(writeSecretsFile(k.path, ring).ok());
  auto pruned = pruneSecretsFile(k.path, 6000);
  REQUIRE(pruned.ok());
  CHECK(pruned->written);
  REQUIRE(pruned->secrets.size() == 1);
  CHECK(pruned->secrets.front().id == "added");
  CHECK(loadSecretsFile(k.path)->size() == 1);
  // Nothing left to prune: the file is not rewritten.
  CHECK_FALSE(pruneSecretsFile(k.path, 6000)->written);
}

TEST_CASE("concurrent rotations never lose a minted secret", "[keyring_lock]") {
  TempKeyring k;
  tw::CsprngRandom seed;
  REQUIRE(generateSecretsFile(k.path, seed, 5000).ok());
  constexpr int kThreads = 8, kEach = 4;
  std::mutex mu;
  std::set<std::string> minted;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      tw::CsprngRandom rng;
      for (int i = 0; i < kEach; ++i) {
        // Same clock second for all: ids must still come out unique.
        auto r = rotateSecretsFile(k.path, rng, 6000, 3600, 20s);
        if (!r) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        minted.insert(r->secrets.front().id);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(minted.size() == kThreads * kEach);
  auto back = loadSecretsFile(k.path);
  REQUIRE(back.ok());
  CHECK(back->size() == 1 + kThreads * kEach);
  std::set<std::string> inFile;
  for (const Secret& s : back.value()) inFile.insert(s.id);
  for (const std::string& id : minted) CHECK(inFile.count(id) == 1);
  CHECK(modeOf(k.path) == 0600);
}
