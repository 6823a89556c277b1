// The PROXY protocol on TURN TCP listeners (relay/io/stream_connections.cc):
// an in-process worker, real sockets on loopback. 127.0.0.1 plays the trusted
// proxy; 127.0.0.2 is a client nobody trusts.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "relay/io/stream_connections.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::StunClient;

namespace {

const SocketAddress kClaimed = *SocketAddress::parse("198.51.100.20:40000");

std::vector<uint8_t> bytesOf(std::string_view s) { return {s.begin(), s.end()}; }

/// A PROXY v2 header (PROXY command, TCP over IPv4, or LOCAL) for `src`.
std::vector<uint8_t> v2Header(const SocketAddress& src, const SocketAddress& dst, bool local = false) {
  std::vector<uint8_t> h{0x0D,
                         0x0A,
                         0x0D,
                         0x0A,
                         0x00,
                         0x0D,
                         0x0A,
                         0x51,
                         0x55,
                         0x49,
                         0x54,
                         0x0A,
                         static_cast<uint8_t>(local ? 0x20 : 0x21),
                         0x11,
                         0x00,
                         12};
  const uint32_t s = src.ip.v4Value(), d = dst.ip.v4Value();
  for (uint32_t v : {s, d})
    for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<uint8_t>(v >> shift));
  for (uint16_t p : {src.port, dst.port})
    h.insert(h.end(), {static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p)});
  return h;
}

std::string v1Line(const SocketAddress& src, const SocketAddress& dst) {
  return "PROXY TCP4 " + src.ip.toString() + " " + dst.ip.toString() + " " + std::to_string(src.port) + " " +
         std::to_string(dst.port) + "\r\n";
}

struct ProxyHarness : Harness {
  explicit ProxyHarness(bool proxyProtocol = true) {
    io::StreamLimits limits = worker->streams().limits();
    limits.trustedProxies.ranges.push_back(policy::IpRange::single(IpAddress::v4(127, 0, 0, 1)));
    worker->streams().setLimits(limits);
    REQUIRE(worker->streams().listen(*SocketAddress::parse("127.0.0.1:0"), nullptr, proxyProtocol).ok());
    address = worker->streams().addresses().front().first;
  }
  StunClient client(const std::string& local = "127.0.0.1:0") {
    StunClient c = StunClient::tcp(
        address, [this] { pump(); }, *SocketAddress::parse(local));
    auto [name, pass] = credential("alice");
    c.setCredentials(name, pass);
    return c;
  }
  const io::StreamStats& stats() { return worker->streams().stats(); }
  SocketAddress address;
};

}  // namespace

TEST_CASE("proxy: a trusted proxy's v2 header names the client for XOR-MAPPED-ADDRESS and the allocation") {
  ProxyHarness h;
  StunClient c = h.client();
  c.send(v2Header(kClaimed, h.address));
  auto bind = c.request(stun::Method::Binding);
  REQUIRE(bind);
  REQUIRE(bind->code == 0);
  CHECK(bind->msg().xorMappedAddress() == kClaimed);
  REQUIRE(c.allocate()->code == 0);
  CHECK(h.server().allocations().find(FiveTuple{kClaimed, h.address, Transport::Tcp}) != nullptr);
  CHECK(h.server().allocations().find(FiveTuple{c.local(), h.address, Transport::Tcp}) == nullptr);
  CHECK(h.stats().proxied == 1);
  CHECK(h.worker->streams().connectionsFrom(kClaimed.ip) == 1);
  CHECK(h.worker->streams().connectionsFrom(c.local().ip) == 0);
}

TEST_CASE("proxy: a v1 header sent a byte at a time is read to its last byte, not beyond") {
  ProxyHarness h;
  StunClient c = h.client();
  for (uint8_t b : bytesOf(v1Line(kClaimed, h.address))) {
    c.send(std::span(&b, 1));
    h.pump();
  }
  auto bind = c.request(stun::Method::Binding);  // its first byte follows the header's LF
  REQUIRE(bind);
  REQUIRE(bind->code == 0);
  CHECK(bind->msg().xorMappedAddress() == kClaimed);
}

TEST_CASE("proxy: v2 LOCAL (a health check) keeps the proxy's own address") {
  ProxyHarness h;
  StunClient c = h.client();
  c.send(v2Header(kClaimed, h.address, /*local=*/true));
  auto bind = c.request(stun::Method::Binding);
  REQUIRE(bind);
  CHECK(bind->msg().xorMappedAddress() == c.local());
}

TEST_CASE("proxy: a header from an address that is not trusted is refused, logged and counted") {
  ProxyHarness h;
  StunClient c = h.client("127.0.0.2:0");
  c.send(v2Header(kClaimed, h.address));
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().proxyRefused == 1);
  CHECK(h.stats().proxied == 0);
  CHECK(h.server().allocations().size() == 0);
  CHECK(h.worker->streams().connectionCount() == 0);
  CHECK(h.worker->streams().connectionsFrom(IpAddress::v4(127, 0, 0, 2)) == 0);
  StunClient v1 = h.client("127.0.0.2:0");
  v1.send(bytesOf(v1Line(kClaimed, h.address)));
  CHECK(v1.waitClosed(3000));
  CHECK(h.stats().proxyRefused == 2);
}

TEST_CASE("proxy: a direct client on a proxy_protocol listener is served as itself") {
  ProxyHarness h;
  StunClient c = h.client("127.0.0.2:0");
  auto bind = c.request(stun::Method::Binding);
  REQUIRE(bind);
  REQUIRE(bind->code == 0);
  CHECK(bind->msg().xorMappedAddress() == c.local());
  CHECK(h.stats().proxyRefused == 0);
}

TEST_CASE("proxy: a trusted proxy's connection without a header is closed and counted") {
  ProxyHarness h;
  StunClient c = h.client();
  c.send(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1,  2,
                              3,    4,    5,    6,    7,    8,    9,    10,   11, 12});
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().proxyInvalid == 1);
  CHECK(h.worker->streams().connectionCount() == 0);
}

TEST_CASE("proxy: a header on a listener without proxy_protocol is refused, even from a trusted proxy") {
  ProxyHarness h(/*proxyProtocol=*/false);
  StunClient c = h.client();
  c.send(v2Header(kClaimed, h.address));
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().proxyRefused == 1);
  CHECK(h.server().allocations().size() == 0);
}

TEST_CASE("proxy: a second header behind the proxy's (a client speaking for itself) is refused") {
  ProxyHarness h;
  StunClient c = h.client();
  auto both = v2Header(kClaimed, h.address);
  const auto forged = v2Header(*SocketAddress::parse("203.0.113.9:1"), h.address);
  both.insert(both.end(), forged.begin(), forged.end());
  c.send(both);
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().proxied == 1);
  CHECK(h.stats().proxyRefused == 1);
  CHECK(h.worker->streams().connectionsFrom(kClaimed.ip) == 0);
}

TEST_CASE("proxy: the per-IP cap counts the named clients, not the proxy") {
  ProxyHarness h;
  io::StreamLimits limits = h.worker->streams().limits();
  limits.maxConnectionsPerIp = 2;
  h.worker->streams().setLimits(limits);
  std::vector<StunClient> clients;
  for (uint16_t i = 0; i < 4; ++i) {  // four users behind one proxy address
    clients.push_back(h.client());
    const SocketAddress user{IpAddress::v4(198, 51, 100, static_cast<uint8_t>(30 + i)), 5000};
    clients.back().send(v2Header(user, h.address));
    REQUIRE(clients.back().request(stun::Method::Binding)->code == 0);
  }
  CHECK(h.stats().rejectedPerIp == 0);
  for (uint16_t port = 1; port <= 2; ++port) {  // one user, three connections: the third is over
    clients.push_back(h.client());
    clients.back().send(v2Header(SocketAddress{kClaimed.ip, port}, h.address));
    REQUIRE(clients.back().request(stun::Method::Binding)->code == 0);
  }
  StunClient third = h.client();
  third.send(v2Header(SocketAddress{kClaimed.ip, 3}, h.address));
  CHECK(third.waitClosed(3000));
  CHECK(h.stats().rejectedPerIp == 1);
}

TEST_CASE("proxy: a trusted proxy that sends nothing is closed at the handshake deadline") {
  ProxyHarness h;
  StunClient c = h.client();
  for (int i = 0; i < 500 && h.worker->streams().pendingCount() == 0; ++i) {
    h.pump();
    usleep(1000);
  }
  REQUIRE(h.worker->streams().pendingCount() == 1);
  CHECK(h.worker->streams().connectionCount(Transport::Tcp) == 1);
  h.clock.advance(h.worker->streams().limits().handshakeTimeout);
  h.worker->streams().sweep([](const FiveTuple&) { return false; });
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().closedHandshakeTimeout == 1);
  CHECK(h.worker->streams().connectionCount() == 0);
}

TEST_CASE("proxy: trusted_proxies apply from the next connection when the limits change") {
  ProxyHarness h;
  io::StreamLimits limits = h.worker->streams().limits();
  limits.trustedProxies = {};
  h.worker->streams().setLimits(limits);  // a reload that trusts nobody
  StunClient c = h.client();
  c.send(v2Header(kClaimed, h.address));
  CHECK(c.waitClosed(3000));
  CHECK(h.stats().proxyRefused == 1);
}
