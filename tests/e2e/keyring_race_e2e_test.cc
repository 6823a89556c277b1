// Manual rotation racing automatic rotation (issue 4, keyring): 16
// `turnwarden rotate` processes at once against the keyring of a live server
// that rotates every second. Every read-modify-write takes the keyring lock
// and re-reads the file under it, so no rotation's new secret is lost.
// grace is 1h and the test takes seconds, so no secret may legitimately
// expire: every minted id must still be in the file.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "policy/secrets_file.h"
#include "tests/support/server_process.h"

using namespace tw;
using tw::testing::ServerProcess;

namespace {

constexpr int kRotations = 16;

std::string slurp(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

/// Ids the server logged as new minting secrets ("keyring rotated (...):
/// policy generation N, secrets (first mints): ID ...").
std::set<std::string> serverMinted(const std::string& log) {
  std::set<std::string> ids;
  const std::regex line(
      "keyring rotated \\([^)]*\\): policy generation [0-9]+, secrets \\(first mints\\): ([^ (\\n]+)");
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) ids.insert((*it)[1]);
  return ids;
}

/// The ids of the last keyring the server published, from its log.
std::set<std::string> lastPublished(const std::string& log) {
  const size_t at = log.rfind("secrets (first mints):");
  std::set<std::string> ids;
  if (at == std::string::npos) return ids;
  std::istringstream in(log.substr(at + 22, log.find('\n', at) - at - 22));
  for (std::string word; in >> word;) ids.insert(word.substr(0, word.find('(')));
  return ids;
}

}  // namespace

TEST_CASE("Concurrent manual rotations and automatic rotation never lose a secret") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess s(testing::udpListenerYaml("race.test", port) +
                  "relay:\n  addresses: [127.0.0.1]\n  port_range: 44000-44999\n"
                  "auth:\n  secrets_file: secrets.yaml\n  max_ttl: 10s\n"
                  "  rotation: {interval: 1s, grace: 1h}\n");
  REQUIRE(s.ready());
  const std::string keyring = s.dir() + "/secrets.yaml";
  const std::string initial = policy::loadSecretsFile(keyring).value().front().id;

  // 16 rotate processes at once, each bounded by timeout(1); then wait for all.
  std::string cmd = "cd " + s.dir() + " && for i in $(seq 1 " + std::to_string(kRotations) +
                    "); do timeout 60 " + TW_BINARY +
                    " rotate --config turnwarden.yaml > rotate-$i.out 2>&1 & done; wait";
  REQUIRE(std::system(cmd.c_str()) == 0);

  std::set<std::string> manual;
  const std::regex printed("new secret ([A-Za-z0-9._-]+) mints");
  for (int i = 1; i <= kRotations; ++i) {
    const std::string out = slurp(s.dir() + "/rotate-" + std::to_string(i) + ".out");
    std::smatch m;
    INFO("rotate-" << i << ".out: " << out);
    REQUIRE(std::regex_search(out, m, printed));
    manual.insert(m[1]);
  }
  CHECK(manual.size() == kRotations);  // every manual rotation minted its own id
  // Wait (bounded) until the server has rotated on its own after the storm.
  size_t autoBefore = serverMinted(s.log()).size();
  for (int i = 0; i < 100 && serverMinted(s.log()).size() == autoBefore; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Ids from the log first, then the file: each logged id was written before
  // it was logged, so all of them must be in the file read afterwards.
  std::set<std::string> minted = serverMinted(s.log());
  CHECK(minted.size() > autoBefore);  // the automatic rotation did run
  minted.insert(initial);
  minted.insert(manual.begin(), manual.end());

  // The file parses, is private, and holds every secret ever minted.
  auto ring = policy::loadSecretsFile(keyring);
  REQUIRE(ring.ok());
  struct stat st {};
  REQUIRE(::stat(keyring.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  struct stat lockSt {};
  REQUIRE(::stat((keyring + ".lock").c_str(), &lockSt) == 0);
  CHECK((lockSt.st_mode & 0777) == 0600);
  std::set<std::string> inFile;
  for (const auto& secret : ring.value()) inFile.insert(secret.id);
  for (const std::string& id : minted) {
    INFO("minted " << id);
    CHECK(inFile.count(id) == 1);
  }

  // The server picks the file up: within a few seconds the keyring it
  // publishes lists every secret the rotate processes minted.
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    const auto published = lastPublished(s.log());
    seen = std::all_of(manual.begin(), manual.end(),
                       [&](const std::string& id) { return published.count(id) == 1; });
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(seen);
  CHECK(s.alive());
}
