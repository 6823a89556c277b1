// threats.md against the live binary, where the in-process tests cannot show
// it: the server's own HTTP listeners denied as peers, hostile usernames inert
// in the log, the admin API and /metrics, oversized datagrams, and the
// amplification factors of Binding and 401 answers measured side by side with
// Debian's coturn (turnserver) on loopback.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "policy/credentials.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "threatsthreatsthreatsthreats0123";
constexpr const char* kToken = "threats-e2e-token-0123456789abcd";
constexpr const char* kRealm = "threats.test";  // 12 bytes, no REALM padding

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tw-threats-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

/// UDP listener, IPv4 relay, the test secret, and metrics and admin on
/// kernel-chosen loopback ports; `extra` is appended.
std::string config(uint16_t port, const std::string& tokenFile, const std::string& extra = "") {
  return testing::udpListenerYaml(kRealm, port) +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 49000-49199\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         kSecret +
         "\"}]\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "admin:\n  listen: 127.0.0.1:0\n  token_file: " +
         tokenFile + "\n" + extra;
}

/// A live server with its TURN, metrics and admin addresses.
struct Live {
  TempDir dir;
  std::string tokenFile = dir.path + "/admin.token";
  uint16_t port = testing::freeUdpPort();
  std::unique_ptr<ServerProcess> server;
  SocketAddress turn, metrics, admin;
  explicit Live(const std::string& extra = "") {
    std::ofstream(tokenFile) << kToken << "\n";
    ::chmod(tokenFile.c_str(), 0600);
    server = std::make_unique<ServerProcess>(config(port, tokenFile, extra));
    REQUIRE(server->ready());
    turn = SocketAddress{IpAddress::v4(127, 0, 0, 1), port};
    auto m = testing::servedAddress(server->log(), "metrics");
    auto a = testing::servedAddress(server->log(), "admin");
    REQUIRE(m);
    REQUIRE(a);
    metrics = *m;
    admin = *a;
  }
  std::string scrape() const {
    auto r = testing::httpGet(metrics, "/metrics");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return r->body;
  }
  /// The value of turnwarden_packets_dropped_total for `reason` (summed over other labels).
  double dropped(const std::string& reason) const {
    double sum = 0;
    std::istringstream in(scrape());
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("turnwarden_packets_dropped_total{", 0) == 0 &&
          line.find("reason=\"" + reason + "\"") != std::string::npos)
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }
  /// Scrapes (the fold runs once a second) until dropped(reason) reaches `n`; bounded.
  double awaitDropped(const std::string& reason, double n) const {
    double v = dropped(reason);
    for (int i = 0; i < 60 && v < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      v = dropped(reason);
    }
    return v;
  }
};

std::string restUser(const std::string& name) {
  return std::to_string(std::time(nullptr) + 3600) + ":" + name;
}

StunClient authed(const SocketAddress& server, const std::string& name) {
  StunClient c(server);
  c.setCredentials(name, policy::restPassword(kSecret, name));
  return c;
}

bool hasControlBytes(const std::string& s, bool allowNewline) {
  for (unsigned char ch : s)
    if ((ch < 0x20 && !(allowNewline && ch == '\n')) || ch == 0x7f) return true;
  return false;
}

/// Debian's coturn on 127.0.0.1:port, as installed (default attributes, so
/// SOFTWARE included), with the same realm; stopped with SIGTERM.
struct Coturn {
  TempDir dir;
  pid_t pid = -1;
  explicit Coturn(uint16_t port) {
    const std::string p = std::to_string(port);
    const std::vector<std::string> args = {"turnserver",
                                           "-n",
                                           "--listening-ip=127.0.0.1",
                                           "--listening-port=" + p,
                                           "--relay-ip=127.0.0.1",
                                           "--min-port=49400",
                                           "--max-port=49499",
                                           std::string("--realm=") + kRealm,
                                           "--use-auth-secret",
                                           std::string("--static-auth-secret=") + kSecret,
                                           "--no-tls",
                                           "--no-dtls",
                                           "--no-cli",
                                           "--log-file=stdout",
                                           "--pidfile=" + dir.path + "/turnserver.pid"};
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const std::string log = dir.path + "/turnserver.log";
      (void)!freopen(log.c_str(), "w", stdout);
      (void)!freopen(log.c_str(), "a", stderr);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp("turnserver", argv.data());
      _exit(127);
    }
  }
  ~Coturn() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, WNOHANG);
  }
};

/// One request shape for the amplification measurement.
struct Shape {
  const char* name;
  stun::Method method;
  bool requestedTransport;
  bool fingerprint;
};

std::vector<uint8_t> build(StunClient& c, const Shape& s) {
  std::vector<uint8_t> out;
  stun::MessageBuilder b(out, s.method, stun::MessageClass::Request, c.newTransactionId());
  if (s.requestedTransport) b.addRequestedTransport(17);
  if (s.fingerprint) b.addFingerprint();
  return out;
}

/// Answer bytes / request bytes for one shape; the answer must carry `code`.
double factor(const SocketAddress& server, const Shape& s, int code, bool* software = nullptr) {
  StunClient c(server);
  const auto req = build(c, s);
  std::optional<testing::Reply> r;
  for (int i = 0; i < 20 && !r; ++i) r = c.transact(req, 500);  // coturn may still be starting
  REQUIRE(r);
  CHECK(r->code == code);
  if (software) *software = r->msg().software().has_value();
  return static_cast<double>(r->bytes.size()) / static_cast<double>(req.size());
}

}  // namespace

TEST_CASE("live: the server's own listener, metrics and admin addresses are denied as peers") {
  // Loopback is allowed, as for a co-located peer: only the self rule stands
  // between a client and the HTTP listeners (restund CVE-2021-21382).
  Live live("peers:\n  allowed: [127.0.0.1/32]\n");
  StunClient c = authed(live.turn, restUser("alice"));
  REQUIRE(c.allocate()->code == 0);
  for (const SocketAddress& self : {live.metrics, live.admin, live.turn}) {
    INFO("peer " << self.toString());
    auto r = c.createPermission(self);
    REQUIRE(r);
    CHECK(r->code == 403);
    CHECK(live.server->log().find("rule=\"self:" + self.toString() + "\"") != std::string::npos);
  }
  // Another loopback port is allowed, and with that permission on 127.0.0.1 a
  // Send to the metrics port is still refused at relay time (and counted).
  REQUIRE(c.createPermission(SocketAddress{IpAddress::v4(127, 0, 0, 1), 9})->code == 0);
  const double before = live.dropped("peer_denied");
  const std::vector<uint8_t> get = {'G', 'E', 'T', ' ', '/', '\r', '\n'};
  c.sendIndication(live.metrics, get);
  c.sendIndication(live.admin, get);
  CHECK(live.awaitDropped("peer_denied", before + 2) == before + 2);
  CHECK(live.server->stop() == 0);
}

TEST_CASE("live: hostile usernames stay inert in the log, the admin API and /metrics, no secret is logged") {
  Live live;
  const std::string hostile =
      std::string("ev\"il'\r\nFAKE forged line %n%s%x%p \x1b[31mred\x1b[0m ") + '\0' + "nul\x07";
  const std::string name = restUser(hostile);
  const std::string password = policy::restPassword(kSecret, name);
  StunClient ok = authed(live.turn, name);
  REQUIRE(ok.allocate()->code == 0);
  StunClient bad(live.turn);
  bad.setCredentials(name, "wrong-password");
  CHECK(bad.allocate()->code == 401);

  auto sessions = testing::httpRequest(live.admin, "GET", "/admin/sessions",
                                       std::string("Authorization: Bearer ") + kToken + "\r\n");
  REQUIRE(sessions);
  REQUIRE(sessions->status == 200);
  CHECK(sessions->body.find("FAKE forged line %n%s%x%p") != std::string::npos);  // listed, verbatim
  CHECK_FALSE(hasControlBytes(sessions->body, true));
  const size_t newline = sessions->body.find('\n');
  CHECK((newline == std::string::npos || newline == sessions->body.size() - 1));
  CHECK(sessions->body.find(password) == std::string::npos);

  const std::string scrape = live.scrape();
  CHECK_FALSE(hasControlBytes(scrape, true));
  CHECK(scrape.find("FAKE") == std::string::npos);  // usernames are never label values
  static const std::regex sample(R"(^[a-z_:]+(\{([a-z_]+="[^"\\]*",?)*\})? [-+0-9.eE]+(Inf)?$)");
  std::istringstream lines(scrape);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    INFO(line);
    CHECK(std::regex_match(line, sample));
  }

  REQUIRE(live.server->stop() == 0);
  const std::string log = live.server->log();
  CHECK(log.find("FAKE forged line %n%s%x%p") != std::string::npos);  // logged, not interpreted
  CHECK_FALSE(hasControlBytes(log, true));
  CHECK(log.find("\nFAKE") == std::string::npos);  // no forged line of its own
  CHECK(log.find(kSecret) == std::string::npos);
  CHECK(log.find(password) == std::string::npos);
}

TEST_CASE("live: an oversized datagram is dropped and counted, the server keeps answering") {
  Live live;
  StunClient c(live.turn);
  const double before = live.dropped("oversize");
  // A Binding header claiming the whole 9,000-byte datagram, past the receive slot.
  std::vector<uint8_t> big(9000, 0);
  const std::vector<uint8_t> head = {0x00, 0x01, 0x23, 0x14, 0x21, 0x12, 0xA4, 0x42};
  std::copy(head.begin(), head.end(), big.begin());
  c.send(big);
  CHECK_FALSE(c.receive(300));
  CHECK(live.awaitDropped("oversize", before + 1) == before + 1);
  auto r = c.request(stun::Method::Binding);
  REQUIRE(r);
  CHECK(r->code == 0);
  CHECK(live.server->alive());
  CHECK(live.server->stop() == 0);
}

TEST_CASE("live: amplification of Binding and 401 answers, side by side with coturn") {
  if (std::system("command -v turnserver >/dev/null 2>&1") != 0)
    FAIL("turnserver (Debian coturn) is not installed");
  Live live;
  const uint16_t coturnPort = testing::freeUdpPort();
  Coturn coturn(coturnPort);
  const SocketAddress theirs{IpAddress::v4(127, 0, 0, 1), coturnPort};
  const Shape shapes[] = {
      {"Binding, 20 bytes", stun::Method::Binding, false, false},
      {"Binding + FINGERPRINT, 28 bytes", stun::Method::Binding, false, true},
      {"Allocate, 20 bytes", stun::Method::Allocate, false, false},
      {"Allocate + REQUESTED-TRANSPORT, 28 bytes", stun::Method::Allocate, true, false},
      {"Allocate + REQUESTED-TRANSPORT + FINGERPRINT, 36 bytes", stun::Method::Allocate, true, true},
  };
  for (const Shape& s : shapes) {
    const int code = s.method == stun::Method::Binding ? 0 : 401;
    bool software = true;
    const double ours = factor(live.turn, s, code, &software);
    const double coturns = factor(theirs, s, code);
    INFO(s.name << ": turnwarden " << ours << ", coturn " << coturns);
    CHECK(ours <= coturns);
    CHECK_FALSE(software);  // no SOFTWARE unless configured
    if (s.method == stun::Method::Binding) CHECK(ours <= 1.6);
  }
  // What clients send first (REQUESTED-TRANSPORT, with or without FINGERPRINT): the 401
  // stays within 2.6, since a challenge carries no reason phrase.
  CHECK(factor(live.turn, shapes[3], 401) <= 2.6);
  CHECK(factor(live.turn, shapes[4], 401) <= 2.6);
  CHECK(live.server->stop() == 0);
}

TEST_CASE("live: relay ports are drawn at random, differently by each server process") {
  auto ports = [](const Live& live) {
    std::vector<uint16_t> out;
    std::vector<StunClient> clients;
    clients.reserve(5);
    for (int i = 0; i < 5; ++i) {
      clients.push_back(authed(live.turn, restUser("p" + std::to_string(i))));
      auto r = clients.back().allocate();
      REQUIRE(r);
      REQUIRE(r->code == 0);
      out.push_back(r->msg().xorRelayedAddress()->port);
    }
    return out;
  };
  Live a, b;
  const auto pa = ports(a);
  const auto pb = ports(b);
  INFO("first server " << pa[0] << " " << pa[1] << " " << pa[2] << " " << pa[3] << " " << pa[4]);
  INFO("second server " << pb[0] << " " << pb[1] << " " << pb[2] << " " << pb[3] << " " << pb[4]);
  CHECK(pa != pb);
  // Not handed out in order: a sequential allocator gives p, p+1, p+2, ...
  bool ascendingByOne = true;
  for (size_t i = 1; i < pa.size(); ++i) ascendingByOne = ascendingByOne && pa[i] == pa[i - 1] + 1;
  CHECK_FALSE(ascendingByOne);
  CHECK(a.server->stop() == 0);
  CHECK(b.server->stop() == 0);
}
