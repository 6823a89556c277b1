// Listener changes on SIGHUP against the live binary (issue 4: "listener
// changes are applied without touching unchanged listeners"): a TCP listener
// added by a reload serves clients; a removed UDP listener frees its port
// while an allocation on a kept listener relays on; a reload whose new
// listener cannot bind is refused whole, and the old listeners and policy
// stay; an unchanged TCP listener keeps its live connections.
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "relay/io/udp_socket.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"

using namespace tw;
using tw::testing::CountingPeer;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "listenerslistenerslisteners00000";
const IpAddress kLoopback = IpAddress::v4(127, 0, 0, 1);

std::string listener(const char* transport, uint16_t port) {
  return "  - {transport: " + std::string(transport) + ", address: 127.0.0.1, port: " + std::to_string(port) +
         "}\n";
}

/// `listeners` is the body of listeners:; peers may reach only `peerPort`.
std::string config(const std::string& listeners, uint16_t peerPort) {
  return "realm: listeners.test\nworkers: 2\nmetrics:\n  listen: 127.0.0.1:0\nlisteners:\n" + listeners +
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 46000-46999\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         std::string(kSecret) +
         "\"}]\n"
         "peers:\n  allowed: [{range: 127.0.0.1/32, ports: " +
         std::to_string(peerPort) + "}]\n";
}

SocketAddress at(uint16_t port) { return SocketAddress{kLoopback, port}; }

StunClient tcpClient(const SocketAddress& server) {
  StunClient c = StunClient::tcp(server);
  const std::string name = std::to_string(std::time(nullptr) + 3600) + ":tcp";
  c.setCredentials(name, policy::restPassword(kSecret, name));
  return c;
}

/// A TCP socket listening on 127.0.0.1 (no SO_REUSEPORT): holds its port.
io::UniqueFd tcpListening(uint16_t port) {
  io::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_storage ss;
  const socklen_t len = at(port).toSockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), 4) != 0) return {};
  return fd;
}

uint16_t freeTcpPort() {
  for (int i = 0; i < 50; ++i) {
    const uint16_t port = testing::freeUdpPort();
    if (tcpListening(port)) return port;  // closed again at once
  }
  return 0;
}

/// Polls /metrics (bounded, ~5 s) until it shows `series` with `value`.
bool metricReaches(const ServerProcess& s, const std::string& series, const std::string& value) {
  auto where = testing::servedAddress(s.log(), "metrics");
  for (int i = 0; where && i < 50; ++i) {
    auto reply = testing::httpGet(*where, "/metrics");
    if (reply && reply->body.find("\n" + series + " " + value + "\n") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// A UDP client of the server on 127.0.0.1:`port` with an allocation and a
/// permission for `peer`.
StunClient permitted(uint16_t port, const std::string& user, CountingPeer& peer) {
  StunClient c = testing::restClient(port, kSecret, user);
  REQUIRE(c.allocate()->code == 0);
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  return c;
}

/// One datagram through `c` reaches the peer.
bool relays(StunClient& c, CountingPeer& peer) {
  c.sendIndication(peer.addr, std::vector<uint8_t>(16, 7));
  return peer.count() == 1;
}

}  // namespace

TEST_CASE("A TCP listener added by SIGHUP serves clients, the UDP listener's allocation relays on") {
  const uint16_t udp = testing::freeUdpPort(), tcp = freeTcpPort();
  CountingPeer peer;
  ServerProcess s(config(listener("udp", udp), peer.addr.port));
  REQUIRE(s.ready());
  StunClient live = permitted(udp, "alice", peer);

  REQUIRE(testing::reloadWith(s, config(listener("udp", udp) + listener("tcp", tcp), peer.addr.port),
                              "reload ok"));
  CHECK(s.log().find("reload: opened listeners: tcp 127.0.0.1:" + std::to_string(tcp)) != std::string::npos);
  CHECK(s.log().find("reload: listening on: udp 127.0.0.1:" + std::to_string(udp) +
                     " tcp 127.0.0.1:" + std::to_string(tcp)) != std::string::npos);
  StunClient overTcp = tcpClient(at(tcp));
  auto alloc = overTcp.allocate();
  REQUIRE(alloc);
  CHECK(alloc->code == 0);
  REQUIRE(overTcp.createPermission(peer.addr)->code == 0);
  CHECK(relays(overTcp, peer));
  // The UDP listener was not touched: same socket, same allocation.
  CHECK(relays(live, peer));
  CHECK(live.refresh(600)->code == 0);
  CHECK(s.log().find("need a restart") == std::string::npos);  // relay: did not change
  CHECK(s.alive());
}

TEST_CASE("A UDP listener removed by SIGHUP frees its port, an allocation on a kept listener relays on") {
  const uint16_t kept = testing::freeUdpPort(), gone = testing::freeUdpPort();
  REQUIRE(kept != gone);
  CountingPeer peer;
  ServerProcess s(config(listener("udp", kept) + listener("udp", gone), peer.addr.port));
  REQUIRE(s.ready());
  StunClient onKept = permitted(kept, "alice", peer);
  StunClient onGone = permitted(gone, "bob", peer);
  CHECK_FALSE(io::openUdpSocket(at(gone), false).ok());  // in use by the server

  REQUIRE(testing::reloadWith(s, config(listener("udp", kept), peer.addr.port), "reload ok"));
  CHECK(s.log().find("reload: closed listeners: udp 127.0.0.1:" + std::to_string(gone)) != std::string::npos);
  CHECK(testing::occurrences(s.log(), "reason=listener_removed") == 1);  // bob's, not alice's
  CHECK(io::openUdpSocket(at(gone), false).ok());                        // the port is free again
  CHECK(relays(onKept, peer));
  CHECK(onKept.refresh(600)->code == 0);
  CHECK(s.alive());
}

TEST_CASE("A reload adding a listener on a port in use is refused whole, old listeners and policy stay") {
  const uint16_t udp = testing::freeUdpPort(), extra = testing::freeUdpPort(), busy = freeTcpPort();
  REQUIRE(udp != extra);
  io::UniqueFd holder = tcpListening(busy);
  REQUIRE(holder);
  CountingPeer peer;
  ServerProcess s(config(listener("udp", udp), peer.addr.port));
  REQUIRE(s.ready());
  StunClient live = permitted(udp, "alice", peer);

  // The refused file also denies the peer (another port only): it must not apply.
  const std::string refused =
      config(listener("udp", udp) + listener("udp", extra) + listener("tcp", busy), peer.addr.port + 1);
  REQUIRE(testing::reloadWith(s, refused, "keeping policy generation"));
  const std::string log = s.log();
  CHECK(log.find("turnwarden.yaml: listeners: cannot listen tcp 127.0.0.1:" + std::to_string(busy) +
                 ": Address already in use") != std::string::npos);
  CHECK(log.find("reload ok") == std::string::npos);
  CHECK(metricReaches(s, R"(turnwarden_config_reloads_total{result="failure"})", "1"));
  // The UDP listener opened during the attempt was closed again.
  CHECK(io::openUdpSocket(at(extra), false).ok());
  // Old listener and old peer rules: the live allocation still relays.
  CHECK(relays(live, peer));
  CHECK(live.refresh(600)->code == 0);
  CHECK(testing::restClient(udp, kSecret, "bob").allocate()->code == 0);
  CHECK(s.alive());
}

TEST_CASE("An unchanged TCP listener keeps its live connection while another listener is removed") {
  const uint16_t udp = testing::freeUdpPort(), tcp = freeTcpPort();
  CountingPeer peer;
  ServerProcess s(config(listener("udp", udp) + listener("tcp", tcp), peer.addr.port));
  REQUIRE(s.ready());
  StunClient live = tcpClient(at(tcp));
  REQUIRE(live.allocate()->code == 0);
  REQUIRE(live.createPermission(peer.addr)->code == 0);

  REQUIRE(testing::reloadWith(s, config(listener("tcp", tcp), peer.addr.port), "reload ok"));
  CHECK(s.log().find("reload: opened listeners") == std::string::npos);
  CHECK(s.log().find("reload: closed listeners: udp 127.0.0.1:" + std::to_string(udp)) != std::string::npos);
  // The same connection, so the same listener socket: it relays and refreshes.
  CHECK(relays(live, peer));
  CHECK(live.refresh(600)->code == 0);
  CHECK(tcpClient(at(tcp)).allocate()->code == 0);  // still accepting
  CHECK(testing::occurrences(s.log(), "reason=listener_removed") == 0);
  CHECK(s.alive());
}

TEST_CASE("Relay address changes on reload are logged as needing a restart") {
  const uint16_t udp = testing::freeUdpPort();
  ServerProcess s(config(listener("udp", udp), 9));
  REQUIRE(s.ready());
  std::string moved = config(listener("udp", udp), 9);
  moved.replace(moved.find("46000-46999"), 11, "47000-47999");
  REQUIRE(testing::reloadWith(s, moved, "reload ok"));
  CHECK(testing::occurrences(s.log(), "need a restart") == 1);
  auto alloc = testing::restClient(udp, kSecret, "alice").allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  const uint16_t relayed = alloc->msg().xorRelayedAddress()->port;
  CHECK(relayed >= 46000);  // still the range the server started with
  CHECK(relayed <= 46999);
}
