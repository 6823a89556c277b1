// turnwarden import-coturn (relay/app/import_coturn.cc): realistic coturn
// configs written for this test, plus Debian's shipped /etc/turnserver.conf
// as installed and with every option uncommented. The output must pass the
// same loading and validation as check-config.
#include "relay/app/import_coturn.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "policy/config.h"
#include "policy/secrets_file.h"
#include "relay/base/crypto.h"

using namespace tw;
using tw::app::importCoturn;

namespace {

/// A production-style coturn config (written for this test).
const char* kProduction = R"(# coturn for meet.example.com
listening-port=3479
listening-ip=192.0.2.10
relay-ip=192.0.2.10
external-ip=198.51.100.7/192.0.2.10
min-port=40000
max-port=44999
realm=meet.example.com
use-auth-secret
static-auth-secret=0123456789abcdefghijklmnopqrstuv
static-auth-secret=tooshort
fingerprint
denied-peer-ip=203.0.113.0-203.0.113.255
allowed-peer-ip=10.1.2.3
no-loopback-peers
no-multicast-peers
user-quota=12
total-quota=1000
max-bps=500000
bps-capacity=50000000
stale-nonce=300
no-tcp
no-tls
no-dtls
user=alice:wonderland
user=bob:0x0123456789ABCDEF0123456789ABCDEF
log-file=/var/log/turn.log
)";

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

struct Tmp {
  std::string path;
  Tmp() {
    char t[] = "/tmp/tw_import_test.XXXXXX";
    REQUIRE(::mkdtemp(t) != nullptr);
    path = t;
  }
  ~Tmp() { std::filesystem::remove_all(path); }
};

/// Imports, writes the keyring like the command does, and loads the YAML
/// with check-config's checks.
policy::Config importAndLoad(const std::string& conf, const Tmp& tmp, app::CoturnImport& out) {
  out = importCoturn(conf, "turnserver.conf", tmp.path + "/secrets.yaml");
  if (!out.secrets.empty()) REQUIRE(policy::writeSecretsFile(tmp.path + "/secrets.yaml", out.secrets).ok());
  const std::string yaml = write(tmp.path, "turnwarden.yaml", out.yaml);
  auto cfg = policy::loadConfig(yaml);
  if (!cfg) FAIL(policy::formatErrors(cfg.error()) << "\n" << out.yaml);
  return cfg.value();
}

bool hasWarning(const app::CoturnImport& out, const std::string& what) {
  for (const auto& w : out.warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a production coturn config round-trips into turnwarden YAML") {
  Tmp tmp;
  app::CoturnImport out;
  const policy::Config c = importAndLoad(kProduction, tmp, out);
  CHECK(c.realm == "meet.example.com");
  REQUIRE(c.listeners.size() == 1);  // no-tcp, no-tls, no-dtls
  CHECK(c.listeners[0].transport == Transport::Udp);
  CHECK(c.listeners[0].address.toString() == "192.0.2.10");
  CHECK(c.listeners[0].port == 3479);
  REQUIRE(c.relay.addresses.size() == 1);
  CHECK(c.relay.addresses[0].toString() == "192.0.2.10");
  CHECK(c.relay.externalAddress->toString() == "198.51.100.7");
  CHECK(c.relay.portMin == 40000);
  CHECK(c.relay.portMax == 44999);
  REQUIRE(c.auth.secrets.size() == 1);
  CHECK(c.auth.secrets[0].value == "0123456789abcdefghijklmnopqrstuv");
  CHECK(c.auth.nonceLifetime == std::chrono::seconds(300));
  REQUIRE(c.peers.denied.size() == 1);
  CHECK(c.peers.denied[0].range.contains(*IpAddress::parse("203.0.113.255")));
  CHECK_FALSE(c.peers.denied[0].range.contains(*IpAddress::parse("203.0.114.0")));
  REQUIRE(c.peers.allowed.size() == 1);
  CHECK(c.peers.allowed[0].range.contains(*IpAddress::parse("10.1.2.3")));
  CHECK(c.quotas.perUser == 12);
  CHECK(c.quotas.total == 1000);
  CHECK(c.quotas.maxBps == 500000);
  CHECK(c.quotas.totalBps == 50000000);
  REQUIRE(c.auth.users.size() == 2);
  CHECK(c.auth.users[0].name == "alice");
  const auto aliceKey = md5(asBytes("alice:meet.example.com:wonderland"));
  CHECK(std::equal(aliceKey.begin(), aliceKey.end(), c.auth.users[0].key.begin()));
  CHECK(hexEncode(c.auth.users[1].key) == "0123456789abcdef0123456789abcdef");
  // Untranslatable options: warned with their line numbers.
  CHECK(hasWarning(out, "turnserver.conf:12: warning: option 'fingerprint'"));
  CHECK(hasWarning(out, "turnserver.conf:27: warning: option 'log-file'"));
  CHECK(hasWarning(out, "turnserver.conf:11: warning: static-auth-secret is shorter"));
  // The short secret's value never appears anywhere.
  for (const auto& w : out.warnings) CHECK(w.find("tooshort") == std::string::npos);
  CHECK(out.yaml.find("0123456789abcdefghijklmnopqrstuv") == std::string::npos);
}

TEST_CASE("allow-loopback-peers and TLS listeners with existing cert files") {
  Tmp tmp;
  const std::string cert = write(tmp.path, "cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = write(tmp.path, "key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const std::string conf = "realm=lab.test\nlistening-ip=127.0.0.1\nallow-loopback-peers\ncert=" + cert +
                           "\npkey=" + key + "\ntls-listening-port=5350\nno-tcp\n";
  app::CoturnImport out;
  const policy::Config c = importAndLoad(conf, tmp, out);
  REQUIRE(c.listeners.size() == 3);  // udp, tls, dtls
  CHECK(c.listeners[1].transport == Transport::Tls);
  CHECK(c.listeners[1].port == 5350);
  CHECK(c.listeners[1].cert == cert);
  CHECK(c.listeners[2].transport == Transport::Dtls);
  CHECK(c.relay.addresses[0].toString() == "127.0.0.1");  // from listening-ip
  CHECK(c.peers.allowed.size() == 2);
  CHECK(hasWarning(out, "turnserver.conf:3: warning: allow-loopback-peers"));
}

TEST_CASE("Debian's shipped /etc/turnserver.conf imports, as installed and uncommented") {
  std::ifstream in("/etc/turnserver.conf");
  if (!in) {
    WARN("no readable /etc/turnserver.conf (coturn not installed): skipped");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string shipped = ss.str();
  {
    Tmp tmp;
    app::CoturnImport out;
    const policy::Config c = importAndLoad(shipped, tmp, out);
    CHECK(hasWarning(out, "no usable realm"));
    CHECK_FALSE(c.listeners.empty());
  }
  // Every "#option" line uncommented: the worst case of conflicting examples.
  const std::string all = std::regex_replace(shipped, std::regex("(^|\n)#([a-z])"), "$1$2");
  Tmp tmp;
  app::CoturnImport out;
  const policy::Config c = importAndLoad(all, tmp, out);
  CHECK(c.realm == "mycompany.org");
  CHECK(c.relay.addresses.size() == 2);
  CHECK(c.auth.users.size() >= 2);
  CHECK(out.warnings.size() > 20);
  std::regex withLine("^turnserver\\.conf:[0-9]+: warning: option '.*");
  size_t numbered = 0;
  for (const auto& w : out.warnings) numbered += std::regex_match(w, withLine);
  CHECK(numbered > 20);
}

TEST_CASE("coturn's TCP relay: no-tcp-relay is taken as is, its absence is a warning") {
  Tmp tmp;
  app::CoturnImport quiet, noisy;
  const policy::Config off =
      importAndLoad("realm=a.test\nlistening-ip=127.0.0.1\nno-tcp-relay\n", tmp, quiet);
  CHECK_FALSE(off.relay.tcp);
  CHECK_FALSE(hasWarning(quiet, "RFC 6062"));
  CHECK_FALSE(hasWarning(quiet, "no-tcp-relay"));  // a known option, no "no equivalent" warning
  const policy::Config dflt = importAndLoad("realm=a.test\nlistening-ip=127.0.0.1\n", tmp, noisy);
  CHECK_FALSE(dflt.relay.tcp);  // turnwarden's safe default stays
  CHECK(hasWarning(noisy, "turnserver.conf: warning: coturn relays TCP (RFC 6062)"));
}

TEST_CASE("a total-quota below turnwarden's per_user default caps per_user with it") {
  // Found by the coturn_import fuzz target: total-quota=4 without user-quota wrote
  // quotas: {total: 4}, which check-config refuses (per_user 50 exceeds total 4).
  Tmp tmp;
  app::CoturnImport alone, above;
  const policy::Config a = importAndLoad("realm=a.test\nlistening-ip=127.0.0.1\ntotal-quota=4\n", tmp, alone);
  CHECK(a.quotas.total == 4);
  CHECK(a.quotas.perUser == 4);
  const policy::Config b =
      importAndLoad("realm=a.test\nlistening-ip=127.0.0.1\ntotal-quota=4\nuser-quota=12\n", tmp, above);
  CHECK(b.quotas.perUser == 4);
  CHECK(hasWarning(above, "user-quota is above total-quota"));
}

TEST_CASE("a user-quota above turnwarden's default total is capped at it when total-quota is absent") {
  // Found by the coturn_import fuzz target in CI: user-quota=500000 with no
  // total-quota wrote per_user: 500000, above the default quotas.total.
  Tmp tmp;
  app::CoturnImport imp;
  const policy::Config c =
      importAndLoad("realm=a.test\nlistening-ip=127.0.0.1\nuser-quota=500000\n", tmp, imp);
  CHECK(c.quotas.total == policy::QuotasConfig{}.total);
  CHECK(c.quotas.perUser == policy::QuotasConfig{}.total);
  CHECK(hasWarning(imp,
                   "user-quota is above turnwarden's default quotas.total (20000); per_user capped at it"));
  app::CoturnImport unlimited;
  const policy::Config u = importAndLoad(
      "realm=a.test\nlistening-ip=127.0.0.1\nuser-quota=500000\ntotal-quota=0\n", tmp, unlimited);
  CHECK(u.quotas.total == 0);
  CHECK(u.quotas.perUser == 500000);
}
