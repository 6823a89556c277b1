// The admin and credential API of the live binary: bearer token, throttling,
// credentials that really authenticate, sessions listed and ended, reload
// with validation errors, drain (Allocate 508, /readyz 503), and the
// security events these write.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <ctime>
#include <regex>
#include <thread>

#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::httpRequest;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kToken = "admin-e2e-token-0123456789abcdef";

using testing::TokenFile;

std::string config(uint16_t port, const std::string& tokenFile) {
  return testing::udpListenerYaml("admin.test", port) + "relay:\n  addresses: [127.0.0.1]\n  port_range: 47200-47399\n"
         "auth:\n  secrets: [{id: k1, value: \"adminadminadminadminadminadmin00\"}]\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "admin:\n  listen: 127.0.0.1:0\n  token_file: " + tokenFile + "\n";
}

std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  const std::regex re("\"" + key + "\":\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

const std::string kAuth = std::string("Authorization: Bearer ") + kToken + "\r\n";

testing::HttpReply call(const SocketAddress& at, const std::string& method, const std::string& path,
                        const std::string& headers = kAuth) {
  auto r = httpRequest(at, method, path, headers);
  REQUIRE(r);
  return *r;
}

/// A live server with admin and metrics listeners on kernel-chosen ports.
struct LiveServer {
  TokenFile token{kToken};
  uint16_t port = testing::freeUdpPort();
  ServerProcess server;
  SocketAddress admin, metrics, turn;
  explicit LiveServer(const std::string& extraYaml = "")
      : server(config(port, token.path) + extraYaml) {
    REQUIRE(server.ready());
    auto a = testing::servedAddress(server.log(), "admin");
    auto m = testing::servedAddress(server.log(), "metrics");
    REQUIRE(a);
    REQUIRE(m);
    admin = *a;
    metrics = *m;
    turn = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
  }
};

}  // namespace

TEST_CASE("admin API on the live binary") {
  LiveServer live;
  ServerProcess& server = live.server;
  const auto admin = std::optional(live.admin);
  const auto metrics = std::optional(live.metrics);
  const SocketAddress turn = live.turn;

  CHECK(call(*admin, "GET", "/admin/sessions", "").status == 401);

  // The credential service mints what the TURN port accepts; TTL is capped.
  const auto cred = call(*admin, "GET", "/api/v1/credentials?user=alice&ttl=600");
  REQUIRE(cred.status == 200);
  CHECK(cred.body.find("\"ttl\":600") != std::string::npos);
  CHECK(cred.body.find("\"uris\":[") != std::string::npos);
  CHECK(call(*admin, "GET", "/api/v1/credentials?user=bob&ttl=99999999").body.find("\"ttl\":86400") !=
        std::string::npos);
  StunClient alice(turn);
  alice.setCredentials(field(cred.body, "username"), field(cred.body, "password"));
  REQUIRE(alice.allocate()->code == 0);

  const auto list = call(*admin, "GET", "/admin/sessions");
  CHECK(list.status == 200);
  CHECK(list.body.find("\"user\":\"alice\"") != std::string::npos);
  CHECK(list.body.find("\"client\":\"" + alice.local().toString() + "\"") != std::string::npos);

  const auto ended = call(*admin, "DELETE", "/admin/sessions?user=alice");
  CHECK(ended.status == 200);
  CHECK(ended.body.find("\"ended\":1") != std::string::npos);
  CHECK(call(*admin, "GET", "/admin/sessions").body.find("alice") == std::string::npos);
  CHECK(alice.refresh(600)->code == 437);  // the allocation is gone
  CHECK(call(*admin, "DELETE", "/admin/sessions/999999").status == 404);
  CHECK(call(*admin, "DELETE", "/admin/sessions/x1").status == 400);

  CHECK(call(*admin, "POST", "/admin/reload").status == 200);
  std::ofstream(server.dir() + "/turnwarden.yaml") << "realm: [broken\n";
  const auto refused = call(*admin, "POST", "/admin/reload");
  CHECK(refused.status == 422);
  CHECK(refused.body.find("turnwarden.yaml:") != std::string::npos);

  CHECK(call(*admin, "POST", "/admin/drain").status == 200);
  CHECK(testing::httpGet(*metrics, "/readyz")->status == 503);
  StunClient late(turn);
  late.setCredentials(field(cred.body, "username"), field(cred.body, "password"));
  CHECK(late.allocate()->code == 508);

  // The token-less request at the start was the first of five strikes.
  for (int i = 0; i < 4; ++i)
    CHECK(call(*admin, "GET", "/admin/sessions", "Authorization: Bearer nope\r\n").status == 401);
  CHECK(call(*admin, "GET", "/admin/sessions").status == 429);

  const auto scrape = testing::httpGet(*metrics, "/metrics")->body;
  CHECK(scrape.find("turnwarden_config_reloads_total{result=\"failure\"} 1") != std::string::npos);
  CHECK(scrape.find("turnwarden_config_reloads_total{result=\"success\"} 2") != std::string::npos);
  REQUIRE(server.stop() == 0);
  const std::string log = server.log();
  CHECK(log.find("\"type\":\"reload\",\"severity\":\"critical\"") != std::string::npos);
  CHECK(log.find("\"type\":\"admin_auth_failure\"") != std::string::npos);
  CHECK(log.find("\"type\":\"drain\"") != std::string::npos);
  CHECK(log.find("\"details\":\"DELETE /admin/sessions -> 200\"") != std::string::npos);
}

TEST_CASE("admin API: a reload's auth.max_ttl caps the credentials minted after it") {
  LiveServer live;
  const std::string path = live.server.dir() + "/turnwarden.yaml";
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  std::string yaml = text.str();
  const auto at = yaml.find("auth:\n");
  REQUIRE(at != std::string::npos);
  yaml.insert(at + 6, "  max_ttl: 1h\n");
  std::ofstream(path) << yaml;
  // Read from the snapshot the reload published, not pushed beside it.
  REQUIRE(call(live.admin, "POST", "/admin/reload").status == 200);
  const auto minted = call(live.admin, "GET", "/api/v1/credentials?user=bob&ttl=99999999");
  REQUIRE(minted.status == 200);
  CHECK(minted.body.find("\"ttl\":3600") != std::string::npos);
}

TEST_CASE("a configured admin API with a readable-by-others token file refuses to start") {
  TokenFile token{kToken};
  ::chmod(token.path.c_str(), 0644);
  ServerProcess server(config(testing::freeUdpPort(), token.path));
  CHECK_FALSE(server.ready());
  CHECK(server.log().find("the admin token file must be a regular file with mode 0600 or stricter") !=
        std::string::npos);
  CHECK(server.log().find(kToken) == std::string::npos);  // the token is never echoed
}

TEST_CASE("bans on the live binary: metrics, event, admin list and lift") {
  LiveServer live("bans:\n  failed_auth: {threshold: 2, window: 60s, ban_for: 10m}\n");
  ServerProcess& server = live.server;
  const auto admin = std::optional(live.admin);
  const auto metrics = std::optional(live.metrics);
  const SocketAddress turn = live.turn;
  StunClient bad(turn);  // bans are per source address: one socket guesses
  bad.setCredentials(std::to_string(std::time(nullptr) + 600) + ":mallory", "wrong");
  for (int i = 0; i < 3; ++i) bad.allocate();  // more than 2 failures: the third bans it
  std::string bans;
  for (int i = 0; i < 50 && bans.find("127.0.0.1") == std::string::npos; ++i) {
    bans = call(*admin, "GET", "/admin/bans").body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Listed by the banned source address (IP and port), the IP apart too.
  const std::string source = "127.0.0.1:" + std::to_string(bad.local().port);
  CHECK(bans.find("{\"source\":\"" + source + "\",\"ip\":\"127.0.0.1\",\"port\":" +
                  std::to_string(bad.local().port) + ",\"remaining_seconds\":") != std::string::npos);

  auto scrapeHas = [&](const std::string& line) {
    for (int i = 0; i < 50; ++i) {
      if (testing::httpGet(*metrics, "/metrics")->body.find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  CHECK(scrapeHas("turnwarden_bans_total 1\n"));
  CHECK(scrapeHas("turnwarden_bans_active 1\n"));

  CHECK(call(*admin, "DELETE", "/admin/bans/127.0.0.1").status == 200);
  CHECK(call(*admin, "DELETE", "/admin/bans/127.0.0.1").status == 404);
  CHECK(call(*admin, "GET", "/admin/bans").body == "{\"bans\":[]}\n");
  CHECK(scrapeHas("turnwarden_bans_active 0\n"));
  // Inline auth.secrets have no keyring file to rotate: refused with a reason.
  const auto rotate = call(*admin, "POST", "/admin/rotate");
  CHECK(rotate.status == 409);
  CHECK(rotate.body.find("\"error\"") != std::string::npos);
  REQUIRE(server.stop() == 0);
  CHECK(server.log().find(R"("type":"ban","severity":"critical","user":"","client_ip":"127.0.0.1")") !=
        std::string::npos);
}
