// The checks of `turnwarden doctor`, each fed a host with the bad case.
#include "relay/app/doctor.h"

#include <catch2/catch.hpp>

using namespace tw;
using namespace tw::app;

namespace {
constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kDay = 86400;

/// A config and a host that pass every check: loopback test setup, a relay
/// range that neither overlaps the ephemeral ports nor runs out.
struct Setup {
  policy::Config config;
  HostFacts host;
  Setup() {
    config.realm = "turn.example.com";
    config.relay.portMin = 40000;
    config.relay.portMax = 65535;
    host.nowUnix = kNow;
    host.openFilesSoft = 65536;
    host.ephemeralPorts = std::pair<uint16_t, uint16_t>{32768, 39999};
    host.rmemMax = 8 << 20;
    host.interfaceAddresses = {IpAddress::v4(127, 0, 0, 1), IpAddress::v4(10, 0, 0, 5)};
  }
  std::vector<Finding> run() const { return runDoctorChecks(config, host); }
};

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

/// The findings of one check.
std::vector<Finding> of(const std::vector<Finding>& all, const std::string& check) {
  std::vector<Finding> out;
  for (const auto& f : all)
    if (f.check == check) out.push_back(f);
  return out;
}

/// The single finding of `check` that is not OK (fails the test if none).
Finding bad(const std::vector<Finding>& all, const std::string& check) {
  for (const auto& f : of(all, check))
    if (f.severity != Severity::Ok) return f;
  FAIL("no WARN or FAIL for " << check << ":\n" << formatReport(all));
  return {};
}

/// The severity of the single finding of `check`.
Severity severityOf(const std::vector<Finding>& all, const std::string& check) {
  const auto found = of(all, check);
  REQUIRE(found.size() == 1);
  return found.front().severity;
}

void addTlsListener(Setup& s, CertFacts cert) {
  policy::ListenerConfig l;
  l.transport = Transport::Tls;
  l.address = IpAddress::v4(10, 0, 0, 5);
  l.port = 5349;
  l.cert = "/etc/turnwarden/tls/cert.pem";
  s.config.listeners.push_back(l);
  s.host.certs[l.cert] = std::move(cert);
}
}  // namespace

TEST_CASE("doctor: a sound host and config pass every check") {
  Setup s;
  const auto all = s.run();
  for (const auto& f : all) {
    INFO(f.check << ": " << f.message);
    CHECK(f.severity == Severity::Ok);
    CHECK(f.fix.empty());
  }
  CHECK(doctorExitCode(all) == 0);
  CHECK(of(all, "open-files").size() == 1);
  CHECK(of(all, "udp-buffers").size() == 1);
}

TEST_CASE("doctor: an open-file limit below quotas.total is a FAIL with the fix") {
  Setup s;
  s.host.openFilesSoft = 1024;
  const auto all = s.run();
  const auto f = bad(all, "open-files");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("1024") && Catch::Contains("20000"));
  CHECK_THAT(f.fix, Catch::Contains("LimitNOFILE="));
  CHECK(doctorExitCode(all) == 1);
  CHECK_THAT(formatReport(all),
             Catch::Contains("FAIL open-files: ") && Catch::Contains("     fix: raise the limit"));
}

TEST_CASE("doctor: TCP/TLS listeners need a connection fd per allocation too (WARN)") {
  Setup s;
  policy::ListenerConfig tcp;
  tcp.transport = Transport::Tcp;
  s.config.listeners.push_back(tcp);
  s.host.openFilesSoft = 30000;  // > 20000 + 2 + 64, < 40066
  const auto f = bad(s.run(), "open-files");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("TCP/TLS"));
}

TEST_CASE("doctor: every worker holds its own socket per listener (workers: auto follows the cores)") {
  Setup s;
  for (uint16_t port : {3478, 3479, 3480, 3481}) {
    policy::ListenerConfig udp;
    udp.port = port;
    s.config.listeners.push_back(udp);
  }
  // The default UDP listener and these four: 20000 + 5 + 4 + 64 = 20073 fits one worker.
  s.host.openFilesSoft = 20100;
  s.host.cores = 1;
  CHECK(severityOf(s.run(), "open-files") == Severity::Ok);
  s.host.cores = 64;  // auto: 64 workers x 5 listeners + 64 x 4 + 64 = 20640 needed
  const auto f = bad(s.run(), "open-files");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("320 listener sockets (5 listeners x 64 workers)") &&
                            Catch::Contains("= 20640"));
  s.config.workers = 2;  // an explicit count wins over the cores
  CHECK(severityOf(s.run(), "open-files") == Severity::Ok);
}

TEST_CASE("doctor: quotas.total 0 leaves only the fd limit as a bound (WARN)") {
  Setup s;
  s.config.quotas.total = 0;
  CHECK(bad(s.run(), "open-files").severity == Severity::Warn);
}

TEST_CASE("doctor: a relay range smaller than quotas.total is a WARN") {
  Setup s;
  s.config.relay.portMin = 49152;  // 16384 ports < 20000
  const auto f = bad(s.run(), "relay-ports");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("16384"));
}

TEST_CASE("doctor: the stock ephemeral range overlapping 49152-65535 is a WARN with a sysctl") {
  Setup s;
  s.config.relay.portMin = 49152;
  s.host.ephemeralPorts = std::pair<uint16_t, uint16_t>{32768, 60999};
  const auto f = bad(s.run(), "ephemeral-ports");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("11848 ports"));  // 49152..60999
  CHECK_THAT(f.fix, Catch::Contains("net.ipv4.ip_local_port_range = 32768 49151"));

  s.host.ephemeralPorts.reset();
  CHECK(bad(s.run(), "ephemeral-ports").severity == Severity::Warn);
}

TEST_CASE("doctor: a public external_address with loopback-only listeners is a FAIL") {
  Setup s;
  s.config.relay.externalAddress = ip("9.9.9.9");
  const auto f = bad(s.run(), "exposure");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("every listener is on loopback"));
}

TEST_CASE("doctor: public listeners with private relay addresses and no external_address") {
  Setup s;
  s.config.listeners.front().address = ip("0.0.0.0");
  s.config.relay.addresses = {ip("10.0.0.5")};
  auto f = bad(s.run(), "exposure");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.fix, Catch::Contains("relay.external_address"));

  SECTION("the other way round: a private external_address") {
    s.config.relay.externalAddress = ip("192.168.1.10");
    f = bad(s.run(), "exposure");
    CHECK(f.severity == Severity::Warn);
    CHECK_THAT(f.message, Catch::Contains("192.168.1.10 is not a public address"));
  }
  SECTION("a public external_address behind 1:1 NAT is fine") {
    s.config.relay.externalAddress = ip("9.9.9.9");
    for (const auto& g : of(s.run(), "exposure")) CHECK(g.severity == Severity::Ok);
  }
}

TEST_CASE("doctor: relay and listener addresses missing from every interface are a FAIL") {
  Setup s;
  s.config.relay.addresses = {ip("10.9.9.9")};
  const auto all = s.run();
  const auto f = bad(all, "addresses");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("relay address 10.9.9.9 is not configured"));
  CHECK(doctorExitCode(all) == 1);

  s.config.relay.addresses = {ip("127.0.0.5")};  // lo carries all of 127/8
  for (const auto& g : of(s.run(), "addresses")) CHECK(g.severity == Severity::Ok);

  Setup t;
  t.config.listeners.front().address = ip("::1");
  CHECK_THAT(bad(t.run(), "addresses").message, Catch::Contains("udp listener ::1"));
}

TEST_CASE("doctor: certificates expiring within 14 days, expired or unreadable") {
  Setup s;
  CertFacts cert;
  cert.dnsNames = {"turn.example.com"};
  cert.notAfterUnix = kNow + 3 * kDay;
  addTlsListener(s, cert);
  auto f = bad(s.run(), "certificate");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("expires in 3 days"));
  CHECK_THAT(f.fix, Catch::Contains("systemctl reload turnwarden"));

  s.host.certs.begin()->second.notAfterUnix = kNow - 1;
  CHECK(bad(s.run(), "certificate").severity == Severity::Fail);

  s.host.certs.begin()->second.error = "not a PEM certificate";
  f = bad(s.run(), "certificate");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("not a PEM certificate"));
}

TEST_CASE("doctor: certificate names must cover the TLS listener's realm or address") {
  Setup s;
  CertFacts cert;
  cert.dnsNames = {"www.example.org"};
  cert.notAfterUnix = kNow + 60 * kDay;
  addTlsListener(s, cert);
  const auto f = bad(s.run(), "certificate");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message,
             Catch::Contains("www.example.org") && Catch::Contains("covers neither realm turn.example.com"));

  s.host.certs.begin()->second.dnsNames = {"*.example.com"};
  for (const auto& g : of(s.run(), "certificate")) CHECK(g.severity == Severity::Ok);
  s.host.certs.begin()->second.dnsNames = {};
  s.host.certs.begin()->second.ipAddresses = {ip("10.0.0.5")};
  for (const auto& g : of(s.run(), "certificate")) CHECK(g.severity == Severity::Ok);
}

TEST_CASE("doctor: with public_name the certificate must cover it, realm and address aside") {
  Setup s;
  s.config.publicName = "turn.example.net";
  CertFacts cert;
  cert.dnsNames = {"turn.example.com"};  // the realm: not what turns: URIs name
  cert.ipAddresses = {ip("10.0.0.5")};   // the listener's address: neither
  cert.notAfterUnix = kNow + 60 * kDay;
  addTlsListener(s, cert);
  const auto f = bad(s.run(), "certificate");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("does not cover public_name turn.example.net"));
  CHECK_THAT(f.fix, Catch::Contains("issue the certificate for turn.example.net"));

  s.host.certs.begin()->second.dnsNames = {"*.example.net"};
  for (const auto& g : of(s.run(), "certificate")) CHECK(g.severity == Severity::Ok);
}

TEST_CASE("doctor: certificate wildcard names cover exactly one label") {
  CHECK(certNameMatches("*.example.com", "turn.example.com"));
  CHECK(certNameMatches("TURN.Example.com", "turn.example.COM"));
  CHECK_FALSE(certNameMatches("*.example.com", "example.com"));
  CHECK_FALSE(certNameMatches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(certNameMatches("turn.example.com", "turn.example.org"));
}

TEST_CASE("doctor: a readable keyring is a FAIL, a foreign owner or an overdue rotation a WARN") {
  Setup s;
  s.config.auth.secretsFile = "/var/lib/turnwarden/secrets.yaml";
  s.host.keyring = {true, 0644, kNow - kDay};
  auto f = bad(s.run(), "keyring");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("mode 0644"));
  CHECK_THAT(f.fix, Catch::Contains("chmod 600"));

  s.host.keyring.mode = 0600;
  s.host.keyringDir = {true, 0700, kNow, 105};  // e.g. turnwarden's StateDirectory
  f = bad(s.run(), "keyring");                  // the keyring is root's (uid 0)
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("owned by uid 0, its directory by uid 105"));
  CHECK_THAT(f.fix, Catch::Contains("sudo -u turnwarden"));
  s.host.keyring.uid = 105;
  for (const auto& g : of(s.run(), "keyring")) CHECK(g.severity == Severity::Ok);

  s.config.auth.rotation = policy::RotationConfig{std::chrono::hours(24 * 7), std::chrono::hours(25)};
  for (const auto& g : of(s.run(), "keyring-age")) CHECK(g.severity == Severity::Ok);
  s.host.keyring.mtimeUnix = kNow - 9 * kDay;
  f = bad(s.run(), "keyring-age");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("216 hours ago"));
}

TEST_CASE("doctor: metrics or admin on a non-loopback address without a token") {
  Setup s;
  s.config.metrics.listen = *SocketAddress::parse("0.0.0.0:9641");
  CHECK(bad(s.run(), "metrics").severity == Severity::Warn);

  s.config.admin.listen = *SocketAddress::parse("10.0.0.5:9642");
  s.config.admin.tokenFile = "/etc/turnwarden/admin.token";
  auto f = bad(s.run(), "admin");
  CHECK(f.severity == Severity::Fail);
  CHECK_THAT(f.message, Catch::Contains("does not exist"));

  s.host.adminToken = {true, 0644, kNow};
  CHECK_THAT(bad(s.run(), "admin").message, Catch::Contains("mode 0644"));

  s.host.adminToken.mode = 0600;
  CHECK(bad(s.run(), "admin").severity == Severity::Warn);  // token, but plain HTTP
  s.config.admin.listen = *SocketAddress::parse("127.0.0.1:9642");
  for (const auto& g : of(s.run(), "admin")) CHECK(g.severity == Severity::Ok);
}

TEST_CASE("doctor: fleet mode without a Redis password is a WARN") {
  Setup s;
  CHECK(of(s.run(), "fleet").empty());  // not in a fleet: nothing to say
  s.config.fleet = policy::FleetConfig{};
  auto f = bad(s.run(), "fleet");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("no fleet.redis.password_file"));
  CHECK_THAT(f.fix, Catch::Contains("requirepass"));
  s.config.fleet->redis.passwordFile = "/etc/turnwarden/redis.password";
  for (const auto& g : of(s.run(), "fleet")) CHECK(g.severity == Severity::Ok);
}

TEST_CASE("doctor: net.core.rmem_max below the listener buffer is a WARN") {
  Setup s;
  s.host.rmemMax = 212992;  // the stock Linux value
  const auto f = bad(s.run(), "udp-buffers");
  CHECK(f.severity == Severity::Warn);
  CHECK_THAT(f.message, Catch::Contains("212992"));
  CHECK_THAT(f.fix, Catch::Contains("net.core.rmem_max = 4194304"));
}
