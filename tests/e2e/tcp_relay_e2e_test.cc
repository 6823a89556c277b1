// TCP relay (RFC 6062) against the live binary. The published pentest chain
// (threats.md) is Allocate TCP -> Connect to an internal service ->
// ConnectionBind -> HTTP GET: here the "internal service" is a loopback
// listener, and under the default rules the Connect must get 403 before any
// SYN leaves, including through IPv4-in-IPv6 spellings. With loopback
// allowed, the whole chain works and bytes flow as they are.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "policy/credentials.h"
#include "tests/e2e/live_helpers.h"
#include "tests/support/http_client.h"
#include "tests/support/raw_tcp.h"
#include "tests/support/server_process.h"
#include "tests/support/stun_client.h"

using namespace tw;
using tw::testing::PeerListener;
using tw::testing::RawTcp;
using tw::testing::ServerProcess;
using tw::testing::StunClient;

namespace {

constexpr const char* kSecret = "tcprelaytcprelaytcprelaytcprelay";

std::string config(uint16_t port, const std::string& extra, bool tcpRelay = true) {
  const std::string p = std::to_string(port);
  return testing::udpListenerYaml("tcp-relay.test", port) +
         "  - {transport: tcp, address: 127.0.0.1, port: " + p +
         "}\n"
         "relay:\n  addresses: [127.0.0.1, \"::1\"]\n  port_range: 47000-47999\n" +
         (tcpRelay ? "  tcp: true\n" : "") + "auth:\n  secrets: [{id: k1, value: \"" + kSecret + "\"}]\n" +
         extra;
}

StunClient control(uint16_t port) {
  StunClient c = StunClient::tcp(*SocketAddress::parse("127.0.0.1:" + std::to_string(port)));
  const std::string name = std::to_string(std::time(nullptr) + 3600) + ":pentest";
  c.setCredentials(name, policy::restPassword(kSecret, name));
  return c;
}

using testing::metricsShow;

SocketAddress at(const std::string& ip, uint16_t port) {
  return *SocketAddress::parse(ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                                                 : ip + ":" + std::to_string(port));
}

}  // namespace

TEST_CASE("e2e tcp relay: Connect to loopback under default rules is 403 and no SYN is sent") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(config(port, ""));
  REQUIRE(server.ready());
  PeerListener v4("127.0.0.1:0");
  PeerListener v6("[::1]:0");

  StunClient c4 = control(port);
  REQUIRE(c4.allocateTcp()->code == 0);
  CHECK(c4.connect(v4.addr)->code == 403);
  CHECK(c4.connect(at("127.0.0.2", v4.addr.port))->code == 403);
  CHECK(c4.connect(at("0.0.0.0", v4.addr.port))->code == 403);  // "any" reaches loopback

  StunClient c6 = control(port);
  auto v6Alloc = c6.allocateTcp([](stun::MessageBuilder& b) {
    const uint8_t fam[4] = {0x02, 0, 0, 0};
    b.addBytes(stun::attr::RequestedAddressFamily, fam);
  });
  REQUIRE(v6Alloc->code == 0);
  for (const char* ip : {"::1", "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "::"}) {
    INFO(ip);
    const uint16_t p = std::string(ip) == "::1" ? v6.addr.port : v4.addr.port;
    CHECK(c6.connect(at(ip, p))->code == 403);
  }
  // Any SYN would have queued a connection on one of the listeners.
  CHECK_FALSE(v4.accept({}, nullptr, 500));
  CHECK_FALSE(v6.accept({}, nullptr, 100));
  CHECK(server.log().find("peer_denied") != std::string::npos);
  CHECK(server.alive());
}

TEST_CASE("e2e tcp relay: with loopback allowed, Connect, ConnectionBind and an HTTP exchange") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(config(port,
                              "peers:\n  allowed: [127.0.0.1/32]\n"
                              "metrics:\n  listen: 127.0.0.1:0\n"));
  REQUIRE(server.ready());
  const auto metrics = testing::servedAddress(server.log(), "metrics");
  REQUIRE(metrics);
  PeerListener web("127.0.0.1:0");
  StunClient c = control(port);
  auto alloc = c.allocateTcp();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  auto r = c.connect(web.addr);
  REQUIRE(r->code == 0);
  REQUIRE(r->msg().connectionId());

  SocketAddress from;
  auto atWeb = web.accept({}, &from);
  REQUIRE(atWeb);
  CHECK(from == relayed);

  RawTcp data = RawTcp::connectTo(at("127.0.0.1", port));
  data.send(c.authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
    b.addU32(stun::attr::ConnectionId, *r->msg().connectionId());
  }));
  std::vector<uint8_t> storage;
  auto bound = data.readStun(storage);
  REQUIRE(bound);
  CHECK(bound->messageClass() == stun::MessageClass::SuccessResponse);

  const std::string get = "GET /latest/meta-data/ HTTP/1.0\r\n\r\n";
  REQUIRE(data.send(get) == get.size());
  REQUIRE(atWeb->fill(get.size()));
  CHECK(atWeb->take(get.size()) == get);
  CHECK(metricsShow(*metrics, "turnwarden_tcp_relay_connections_active 1"));
  const std::string reply = "HTTP/1.0 200 OK\r\n\r\nhello";
  REQUIRE(atWeb->send(reply) == reply.size());
  atWeb->fd.reset();  // the server closes after its reply, as HTTP/1.0 does
  REQUIRE(data.fill(reply.size()));
  CHECK(data.take(reply.size()) == reply);
  CHECK(data.closed());
  CHECK(metricsShow(*metrics, "turnwarden_tcp_relay_connections_active 0"));
  CHECK(metricsShow(*metrics, "turnwarden_requests_total{method=\"Connect\",result_code=\"200\"} 1"));
  CHECK(metricsShow(*metrics, "turnwarden_requests_total{method=\"ConnectionBind\",result_code=\"200\"} 1"));
  CHECK(server.alive());
}

TEST_CASE("e2e tcp relay: off unless relay.tcp is true (browsers never use it)") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess server(config(port, "", /*tcpRelay=*/false));
  REQUIRE(server.ready());
  StunClient c = control(port);
  auto r = c.allocateTcp();
  REQUIRE(r);
  CHECK(r->code == 442);
  CHECK(c.allocate()->code == 0);  // UDP relaying over the same TCP connection still works
}
