// The policy side of the admin API on the live binary: GET /admin/bans lists
// a brute-force ban, DELETE /admin/bans/{ip} lifts it (the IP is served
// again), POST /admin/rotate rotates the keyring file (new secret first,
// the old one kept for the grace period) and answers with an id, never a value.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>

#include "policy/credentials.h"
#include "policy/secrets_file.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::httpRequest;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kToken = "policy-admin-token-0123456789abcd";

std::string config(uint16_t port, const std::string& dir) {
  return testing::udpListenerYaml("padmin.test", port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47400-47599\n"
         "auth:\n  secrets_file: " +
         dir +
         "/secrets.yaml\n"
         "bans:\n  failed_auth: {threshold: 2, window: 60s, ban_for: 10m}\n"
         "rate_limits:\n  unauthenticated_per_ip: {rate: 100, burst: 100}\n"
         "admin:\n  listen: 127.0.0.1:0\n  token_file: " +
         dir + "/admin.token\n";
}

std::optional<SocketAddress> adminAddress(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("admin: serving http://([0-9.]+:[0-9]+)/"))) return std::nullopt;
  return SocketAddress::parse(m[1].str());
}

}  // namespace

TEST_CASE("Admin API lists and lifts bans and rotates the secret") {
  char tmpl[] = "/tmp/tw-padmin-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/admin.token") << kToken << "\n";
  ::chmod((dir + "/admin.token").c_str(), 0600);
  const uint16_t port = testing::freeUdpPort();
  {
    ServerProcess s(config(port, dir));
    REQUIRE(s.ready());
    auto admin = adminAddress(s.log());
    REQUIRE(admin);
    const std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
    const SocketAddress server{IpAddress::v4(127, 0, 0, 1), port};

    StunClient attacker(server, {}, *SocketAddress::parse("127.0.0.2:0"));
    attacker.setCredentials(std::to_string(std::time(nullptr) + 600) + ":alice", "guess");
    for (int i = 0; i < 4; ++i) attacker.allocate();
    auto list = httpRequest(*admin, "GET", "/admin/bans", auth);
    REQUIRE(list);
    CHECK(list->status == 200);
    CHECK(list->body.find("\"source\":\"127.0.0.2:" + std::to_string(attacker.local().port) + "\"") !=
          std::string::npos);
    CHECK(list->body.find("\"ip\":\"127.0.0.2\"") != std::string::npos);
    auto lifted = httpRequest(*admin, "DELETE", "/admin/bans/127.0.0.2", auth);
    REQUIRE(lifted);
    CHECK(lifted->status == 200);
    CHECK(httpRequest(*admin, "DELETE", "/admin/bans/127.0.0.2", auth)->status == 404);
    CHECK(attacker.request(stun::Method::Binding));  // the banned source is served again

    const auto before = policy::loadSecretsFile(dir + "/secrets.yaml");
    REQUIRE(before.ok());
    auto rotated = httpRequest(*admin, "POST", "/admin/rotate", auth);
    REQUIRE(rotated);
    CHECK(rotated->status == 200);
    const auto after = policy::loadSecretsFile(dir + "/secrets.yaml");
    REQUIRE(after.ok());
    REQUIRE(after->size() == 2);
    CHECK(after.value()[1].value == before.value()[0].value);
    CHECK(rotated->body.find(after.value()[0].id) != std::string::npos);
    CHECK(rotated->body.find(after.value()[0].value) == std::string::npos);
    const std::string name = std::to_string(std::time(nullptr) + 600) + ":carol";
    StunClient c(server);
    c.setCredentials(name, policy::restPassword(after.value()[0].value, name));
    CHECK(c.allocate()->code == 0);
  }
  std::filesystem::remove_all(dir);
}
