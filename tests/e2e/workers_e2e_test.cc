// Two workers against the live binary (issue 9): SO_REUSEPORT spreads
// clients over the workers and each allocation lives on the one that
// received its Allocate, while quotas, bans, the anomaly detectors, reload
// revocation and RFC 6062 ConnectionBind hold across them. Which worker owns
// an allocation is read from its id (GET /admin/sessions; ids carry the
// worker: owner = (id - 1) mod workers).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/raw_tcp.h"
#include "tests/support/raw_tls.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "workersworkersworkersworkers0000";
constexpr const char* kToken = "workers-admin-token-0123456789ab";

struct Server {
  std::string dir;
  uint16_t port = testing::freeUdpPort();
  std::unique_ptr<ServerProcess> process;
  SocketAddress admin, metrics;

  uint16_t tlsPort = 0;  ///< with `tls`: a TLS listener (self-signed certificate)

  /// `peerPort`: the one loopback port peers may use (0: any); `extra`: more YAML.
  Server(uint16_t peerPort, const std::string& extra, bool tls = false) {
    char tmpl[] = "/tmp/tw-workers-XXXXXX";
    dir = mkdtemp(tmpl);
    std::ofstream(dir + "/admin.token") << kToken << "\n";
    ::chmod((dir + "/admin.token").c_str(), 0600);
    if (tls) {
      const std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
          "-subj /CN=localhost -keyout " +
          dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
      if (std::system(cmd.c_str()) == 0) tlsPort = testing::closedTcpPort();
    }
    process = std::make_unique<ServerProcess>(config(peerPort, extra));
    if (!process->ready()) return;
    admin = testing::servedAddress(process->log(), "admin").value_or(admin);
    metrics = testing::servedAddress(process->log(), "metrics").value_or(metrics);
  }
  ~Server() {
    process.reset();
    std::filesystem::remove_all(dir);
  }
  std::string config(uint16_t peerPort, const std::string& extra) const {
    const std::string p = std::to_string(port);
    const std::string tls =
        tlsPort ? "  - {transport: tls, address: 127.0.0.1, port: " + std::to_string(tlsPort) +
                      ", cert: " + dir + "/cert.pem, key: " + dir + "/key.pem}\n"
                : std::string();
    return testing::udpListenerYaml("workers.test", port) +
           "  - {transport: tcp, address: 127.0.0.1, port: " + p + "}\n" + tls +
           "relay:\n  addresses: [127.0.0.1]\n  port_range: 44000-44999\n  tcp: true\n"
           "auth:\n  secrets: [{id: k1, value: \"" +
           kSecret + "\"}]\n" +
           (peerPort ? "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " + std::to_string(peerPort) + "}]\n"
                     : std::string("peers:\n  allowed: [127.0.0.1/32]\n")) +
           "rate_limits:\n  unauthenticated_per_ip: {rate: 1000, burst: 1000}\n"
           "metrics:\n  listen: 127.0.0.1:0\n"
           "admin:\n  listen: 127.0.0.1:0\n  token_file: " +
           dir + "/admin.token\n" + extra;
  }
  /// Client address -> owning worker, from GET /admin/sessions.
  std::map<std::string, uint64_t> owners() const {
    std::map<std::string, uint64_t> out;
    auto r = testing::httpRequest(admin, "GET", "/admin/sessions",
                                  std::string("Authorization: Bearer ") + kToken + "\r\n");
    if (!r) return out;
    const std::regex re("\\{\"id\":([0-9]+),[^}]*?\"client\":\"([^\"]+)\"");
    for (std::sregex_iterator it(r->body.begin(), r->body.end(), re), end; it != end; ++it)
      out[(*it)[2].str()] = (std::stoull((*it)[1].str()) - 1) % 2;
    return out;
  }
  bool metricsShow(const std::string& line) const { return testing::metricsShow(metrics, line); }
};

StunClient client(const Server& s, const std::string& user, const char* local = "127.0.0.1:0") {
  return testing::restClient(SocketAddress{IpAddress::v4(127, 0, 0, 1), s.port}, kSecret, user, local);
}

/// Allocates from fresh sockets until `perWorker` allocations live on each
/// of the two workers (SO_REUSEPORT hashes each source port to one).
std::vector<StunClient> onBothWorkers(const Server& s, const std::string& user, size_t perWorker,
                                      const char* local = "127.0.0.1:0") {
  std::vector<StunClient> kept;
  std::array<size_t, 2> have{};
  for (int tries = 0; tries < 64 && (have[0] < perWorker || have[1] < perWorker); ++tries) {
    StunClient c = client(s, user, local);
    if (c.allocate()->code != 0) continue;
    const uint64_t w = s.owners().at(c.local().toString());
    if (have[w] >= perWorker) {
      c.refresh(0);
      continue;
    }
    ++have[w];
    kept.push_back(std::move(c));
  }
  return kept;
}

}  // namespace

TEST_CASE("workers: a quota is exact across workers, N allocations spread, N+1 refused") {
  Server s(9, "quotas: {per_user: 16}\n");
  REQUIRE(s.process->ready());
  // per_user counts per credential (and client IP): one REST name for all,
  // minted once. A name per client changed when the clock crossed a second
  // during the 16 allocations (often under ASan), giving the 17th a quota of
  // its own.
  const std::string name = testing::restName("alice");
  const SocketAddress at{IpAddress::v4(127, 0, 0, 1), s.port};
  auto alice = [&] { return testing::restClientNamed(at, kSecret, name); };
  std::vector<StunClient> live;
  for (int i = 0; i < 16; ++i) {
    live.push_back(alice());
    REQUIRE(live.back().allocate()->code == 0);
  }
  std::array<int, 2> perWorker{};
  for (const auto& [c, w] : s.owners()) ++perWorker[w];
  INFO("worker 0: " << perWorker[0] << ", worker 1: " << perWorker[1]);
  CHECK(perWorker[0] + perWorker[1] == 16);
  CHECK(perWorker[0] > 0);  // 16 source ports on one worker: odds 2^-15
  CHECK(perWorker[1] > 0);
  CHECK(alice().allocate()->code == 486);  // the 17th, wherever it lands
  // Ending one on either worker frees exactly one place.
  REQUIRE(live.front().refresh(0)->code == 0);
  StunClient again = alice();
  CHECK(again.allocate()->code == 0);
  CHECK(alice().allocate()->code == 486);
  CHECK(s.process->alive());
}

TEST_CASE(
    "workers: a brute force spread over both workers trips the detector, and a ban stops its source on its "
    "worker") {
  // Each wrong-password Refresh costs two failures (the client retries the
  // 401 once): 6 sockets, 12 failures, 6 per worker. The detector needs 12:
  // neither worker alone gets there. Bans are per source address (IP and
  // port: thousands of users may share one NAT address, docs/policy.md), so
  // they come from the shared table once one socket passes the threshold.
  Server s(9,
           "bans:\n  failed_auth: {threshold: 11, window: 60s, ban_for: 10m}\n"
           "anomalies:\n  brute_force_failures: 12\n");
  REQUIRE(s.process->ready());
  // Three sockets of 127.0.0.3 on each worker, each proven by an allocation.
  std::vector<StunClient> attackers = onBothWorkers(s, "mallory", 3, "127.0.0.3:0");
  REQUIRE(attackers.size() == 6);
  int refused = 0;
  for (StunClient& a : attackers) {
    a.setCredentials(std::to_string(std::time(nullptr) + 600) + ":mallory", "wrong password");
    auto r = a.refresh(600);
    if (r && r->code == 401) ++refused;
  }
  CHECK(refused == 6);  // no source is past the threshold yet
  CHECK(s.metricsShow("turnwarden_anomalies_total{kind=\"brute_force\"} 1"));
  // One socket keeps guessing: its 12th failure bans it.
  StunClient& guesser = attackers.front();
  for (int i = 0; i < 5 && guesser.refresh(600); ++i) {
  }
  CHECK(s.metricsShow("turnwarden_bans_total 1"));
  CHECK_FALSE(guesser.request(stun::Method::Binding));     // dropped
  CHECK(attackers.back().request(stun::Method::Binding));  // its NAT neighbour is served
  CHECK(client(s, "alice").allocate()->code == 0);         // and so is everyone else
  CHECK(s.process->alive());
}

TEST_CASE("workers: a reload revokes permissions on every worker") {
  CountingPeer peer;
  Server s(peer.addr.port, "");
  REQUIRE(s.process->ready());
  std::vector<StunClient> clients = onBothWorkers(s, "alice", 2);
  REQUIRE(clients.size() == 4);
  const std::vector<uint8_t> payload(40, 7);
  for (StunClient& c : clients) {
    REQUIRE(c.createPermission(peer.addr)->code == 0);
    c.sendIndication(peer.addr, payload);
  }
  CHECK(peer.count() == 4);
  // The peer's port is no longer allowed: every worker re-checks its own allocations.
  REQUIRE(testing::reloadWith(*s.process, s.config(9, ""), "reload ok"));
  for (int i = 0; i < 50 && testing::occurrences(s.process->log(), "reload revoked peer=") < 4; ++i)
    usleep(20000);
  CHECK(testing::occurrences(s.process->log(), "reload revoked peer=") == 4);
  for (StunClient& c : clients) c.sendIndication(peer.addr, payload);
  CHECK(peer.count() == 0);
  CHECK(s.process->alive());
}

namespace {
/// The server's log line for each ConnectionBind moved to another worker.
const std::string kMoveMarker = "tcp relay: ConnectionBind from";

/// A TCP control connection holding a TCP allocation (RFC 6062) for alice.
StunClient tcpAllocation(const Server& s) {
  StunClient c = StunClient::tcp(SocketAddress{IpAddress::v4(127, 0, 0, 1), s.port});
  const std::string name = std::to_string(std::time(nullptr) + 3600) + ":alice";
  c.setCredentials(name, policy::restPassword(kSecret, name));
  REQUIRE(c.allocateTcp()->code == 0);
  return c;
}
}  // namespace

TEST_CASE("workers: ConnectionBind arriving on the worker that does not own the peer connection") {
  Server s(0, "");
  REQUIRE(s.process->ready());
  StunClient c = tcpAllocation(s);
  // Each data connection is hashed to a worker on its own: bind until one
  // crosses (the server logs the move), checking every pipe both ways.
  int moved = 0;
  for (int i = 0; i < 24 && moved == 0; ++i) {
    testing::PeerListener web("127.0.0.1:0");  // a new peer each time (446 for a live one)
    auto r = c.connect(web.addr);
    REQUIRE(r->code == 0);
    auto atWeb = web.accept({}, nullptr);
    REQUIRE(atWeb);
    auto data = testing::RawTcp::connectTo(SocketAddress{IpAddress::v4(127, 0, 0, 1), s.port});
    data.send(c.authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
      b.addU32(stun::attr::ConnectionId, *r->msg().connectionId());
    }));
    std::vector<uint8_t> storage;
    auto bound = data.readStun(storage);
    REQUIRE(bound);
    REQUIRE(bound->messageClass() == stun::MessageClass::SuccessResponse);
    const std::string up = "ping " + std::to_string(i), down = "pong " + std::to_string(i);
    REQUIRE(data.send(up) == up.size());
    REQUIRE(atWeb->fill(up.size()));
    CHECK(atWeb->take(up.size()) == up);
    REQUIRE(atWeb->send(down) == down.size());
    REQUIRE(data.fill(down.size()));
    CHECK(data.take(down.size()) == down);
    moved = static_cast<int>(testing::occurrences(s.process->log(), kMoveMarker));
  }
  CHECK(moved == 1);  // 24 binds on one worker: odds 2^-24
  CHECK(s.process->alive());
}

TEST_CASE("workers: a TLS ConnectionBind moved to the owning worker keeps its TLS session intact") {
  // The session (SSL object) leaves the worker that accepted it only once
  // that worker's libevent has destroyed the old bufferevent, whose destruct
  // closes the socket of the session's BIO at that time: moved earlier, that
  // was the new owner's socket ("bad record mac" or a dead connection).
  // Every session stays open to the end: more than the default 16 per allocation.
  Server s(0, "quotas:\n  tcp_connections_per_allocation: 64\n  connects_per_minute: 120\n", /*tls=*/true);
  REQUIRE(s.tlsPort != 0);
  REQUIRE(s.process->ready());
  StunClient c = tcpAllocation(s);
  const SocketAddress tlsAt{IpAddress::v4(127, 0, 0, 1), s.tlsPort};
  size_t moved = 0;
  std::vector<testing::RawTls> keep;  // every session stays open to the end
  std::vector<testing::RawTcp> peers;
  for (int i = 0; i < 32 && moved < 4; ++i) {
    testing::PeerListener web("127.0.0.1:0");
    auto r = c.connect(web.addr);
    REQUIRE(r->code == 0);
    auto atWeb = web.accept({}, nullptr);
    REQUIRE(atWeb);
    auto data = testing::RawTls::connectTo(tlsAt);
    REQUIRE(data);
    REQUIRE(data->send(c.authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
      b.addU32(stun::attr::ConnectionId, *r->msg().connectionId());
    })));
    std::vector<uint8_t> storage;
    auto bound = data->readStun(storage);
    INFO(data->error());
    REQUIRE(bound);
    REQUIRE(bound->messageClass() == stun::MessageClass::SuccessResponse);
    for (int k = 0; k < 3; ++k) {  // several records each way, right after the move
      const std::string up = "ping " + std::to_string(i) + "." + std::to_string(k);
      const std::string down = "pong " + std::to_string(i) + "." + std::to_string(k);
      REQUIRE(data->send(up));
      REQUIRE(atWeb->fill(up.size()));
      CHECK(atWeb->take(up.size()) == up);
      REQUIRE(atWeb->send(down) == down.size());
      REQUIRE(data->fill(down.size()));
      CHECK(data->take(down.size()) == down);
    }
    keep.push_back(std::move(*data));
    peers.push_back(std::move(*atWeb));
    moved = testing::occurrences(s.process->log(), kMoveMarker);
  }
  CHECK(moved >= 4);  // about half of the binds cross: fewer than 4 of 32 has odds below 1e-5
  // The sessions that moved earlier still carry data both ways.
  for (size_t i = 0; i < keep.size(); ++i) {
    REQUIRE(keep[i].send("again"));
    REQUIRE(peers[i].fill(5));
    CHECK(peers[i].take(5) == "again");
  }
  CHECK(s.process->alive());
}
