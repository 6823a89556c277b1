// Removing listeners on a live worker (SIGHUP reload, issue 4): a removed
// UDP listener ends its own allocations and frees its port; a removed TCP
// listener refuses new connections while accepted ones keep relaying; the
// other listeners and their allocations are not touched. No descriptor leaks.
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "relay/io/udp_socket.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::kAllowLoopback;
using tw::testing::StunClient;
using tw::testing::UdpPeer;

namespace {

size_t openFds() {
  const auto dir = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<size_t>(std::distance(std::filesystem::begin(dir), std::filesystem::end(dir)));
}

StunClient clientOf(Harness& h, const SocketAddress& server, bool tcp) {
  StunClient c = tcp ? StunClient::tcp(server, [&h] { h.pump(); }) : StunClient(server, [&h] { h.pump(); });
  auto [name, pass] = h.credential("alice");
  c.setCredentials(name, pass);
  return c;
}

/// A peer datagram sent through `c`'s allocation arrives: it still relays.
bool relays(Harness& h, StunClient& c, UdpPeer& peer) {
  if (c.createPermission(peer.addr)->code != 0) return false;
  const std::vector<uint8_t> hello{'h', 'i'};
  c.sendIndication(peer.addr, hello);
  auto got = peer.receive(h, 2000);
  return got && *got == hello;
}

/// True when a TCP connect to `to` is refused (nothing listens there).
bool tcpRefused(const SocketAddress& to) {
  io::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno == ECONNREFUSED;
}

}  // namespace

TEST_CASE("udp listener removed: its allocations end, its port and fds are freed, others relay on") {
  Harness h(kAllowLoopback);
  UdpPeer peer;
  StunClient kept = h.authedClient();
  REQUIRE(kept.allocate()->code == 0);
  const size_t fdsBefore = openFds();

  auto added = h.worker->addUdpListener(*SocketAddress::parse("127.0.0.1:0"));
  REQUIRE(added.ok());
  const SocketAddress b = added.value();
  CHECK(b.port != 0);
  CHECK(h.worker->listenerAddresses().back() == b);
  {
    StunClient onB = clientOf(h, b, false);
    REQUIRE(onB.allocate()->code == 0);
    REQUIRE(h.server().allocations().find(FiveTuple{onB.local(), b, Transport::Udp}) != nullptr);
    const size_t inUse = h.pool().inUse();

    CHECK(h.worker->removeUdpListener(b));
    CHECK(h.server().allocations().find(FiveTuple{onB.local(), b, Transport::Udp}) == nullptr);
    CHECK(h.pool().inUse() == inUse - 1);  // its relay port went back at once
    CHECK_FALSE(h.worker->removeUdpListener(b));
  }
  CHECK(openFds() == fdsBefore);  // listener and relay socket closed, nothing leaked
  CHECK(h.worker->listenerAddresses() == std::vector<SocketAddress>{h.address});
  // The port is free: a socket without SO_REUSEPORT can bind it.
  CHECK(io::openUdpSocket(b, /*reusePort=*/false).ok());
  // The untouched listener's allocation keeps relaying and refreshing.
  CHECK(relays(h, kept, peer));
  CHECK(kept.refresh(600)->code == 0);
}

TEST_CASE("tcp listener closed: new connections are refused, accepted ones keep relaying") {
  Harness h(kAllowLoopback);
  UdpPeer peer;
  auto listening = h.worker->streams().listen(*SocketAddress::parse("127.0.0.1:0"));
  REQUIRE(listening.ok());
  const SocketAddress at = listening.value();
  CHECK(h.worker->streams().addresses().front().first == at);
  StunClient live = clientOf(h, at, true);
  REQUIRE(live.allocate()->code == 0);
  const size_t fdsBefore = openFds();

  CHECK(h.worker->streams().closeListener(at));
  CHECK(openFds() == fdsBefore - 1);  // exactly the listening socket
  CHECK(h.worker->streams().addresses().empty());
  CHECK(h.worker->streams().connectionCount() == 1);
  CHECK(tcpRefused(at));
  CHECK_FALSE(h.worker->streams().closeListener(at));
  // The connection accepted before keeps its allocation, relays and refreshes.
  CHECK(relays(h, live, peer));
  CHECK(live.refresh(600)->code == 0);
  CHECK(h.server().allocations().find(FiveTuple{live.local(), at, Transport::Tcp}) != nullptr);
}

TEST_CASE("tcp listener reopened on the same port after a close") {
  Harness h(kAllowLoopback);
  auto first = h.worker->streams().listen(*SocketAddress::parse("127.0.0.1:0"));
  REQUIRE(first.ok());
  REQUIRE(h.worker->streams().closeListener(first.value()));
  auto again = h.worker->streams().listen(first.value());
  REQUIRE(again.ok());
  CHECK(again.value() == first.value());
  StunClient c = clientOf(h, again.value(), true);
  CHECK(c.allocate()->code == 0);
}
