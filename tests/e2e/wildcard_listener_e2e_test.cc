// Issue 12: a UDP listener on the wildcard (0.0.0.0, ::) answers every
// datagram from the address it was sent to (IP_PKTINFO / IPV6_PKTINFO), not
// from the host's primary address, which a client's NAT or firewall drops.
// Checked on the live binary for Binding (XOR-MAPPED-ADDRESS), the 401 of an
// unauthenticated Allocate, and relayed data of an allocation made through
// 127.0.0.5.
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "relay/io/udp_socket.h"
#include "relay/stun/builder.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message.h"
#include "tests/e2e/counting_peer.h"
#include "tests/e2e/live_helpers.h"

using namespace tw;
using tw::testing::ServerProcess;

namespace {

constexpr const char* kSecret = "wildcardwildcardwildcardwildcard";

std::string config(uint16_t port) {
  const std::string p = std::to_string(port);
  return "realm: wildcard.test\nlisteners:\n"
         "  - {transport: udp, address: 0.0.0.0, port: " +
         p +
         "}\n"
         "  - {transport: udp, address: \"::\", port: " +
         p +
         "}\n"
         "relay:\n  addresses: [127.0.0.1]\n  port_range: 47000-47499\n"
         "auth:\n  secrets: [{id: k1, value: \"" +
         std::string(kSecret) +
         "\"}]\n"
         "peers:\n  allowed: [127.0.0.1/32]\n";
}

struct Answer {
  SocketAddress from;
  std::vector<uint8_t> bytes;
};

/// The first datagram on fd within 2 s, with its source.
std::optional<Answer> receiveFrom(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return std::nullopt;
  std::vector<uint8_t> buf(65536);
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  auto from = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  if (n < 0 || !from) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return Answer{*from, buf};
}

/// Sends one request from a fresh socket (on `local`) to `to`; the answer
/// and the address the client used.
std::optional<Answer> ask(const SocketAddress& to, stun::Method method, const char* local,
                          SocketAddress& client) {
  auto fd = io::openUdpSocket(*SocketAddress::parse(local), false);
  REQUIRE(fd);
  client = *io::localAddress(fd->get());
  std::vector<uint8_t> b;
  stun::TransactionId txn{};
  txn[0] = 7;
  stun::MessageBuilder m(b, method, stun::MessageClass::Request, txn);
  if (method == stun::Method::Allocate) m.addRequestedTransport(17);
  sockaddr_storage ss;
  const socklen_t len = to.toSockaddr(ss);
  ::sendto(fd->get(), m.bytes().data(), m.bytes().size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  return receiveFrom(fd->get());
}

void checkAnsweredFrom(const SocketAddress& to, const char* local) {
  INFO("sent to " << to.toString());
  SocketAddress client;
  auto binding = ask(to, stun::Method::Binding, local, client);
  REQUIRE(binding);
  CHECK(binding->from == to);
  auto msg = stun::decode(binding->bytes);
  REQUIRE(msg);
  CHECK(msg->xorMappedAddress() == client);
  auto challenge = ask(to, stun::Method::Allocate, local, client);
  REQUIRE(challenge);
  CHECK(challenge->from == to);
  auto c = stun::decode(challenge->bytes);
  REQUIRE(c);
  REQUIRE(c->errorCode());
  CHECK(c->errorCode()->code == 401);
}

}  // namespace

TEST_CASE("A wildcard UDP listener answers Binding and 401 from the address each was sent to") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess s(config(port));
  REQUIRE(s.ready());
  checkAnsweredFrom(SocketAddress{IpAddress::v4(127, 0, 0, 1), port}, "127.0.0.1:0");
  checkAnsweredFrom(SocketAddress{IpAddress::v4(127, 0, 0, 5), port}, "127.0.0.1:0");
  checkAnsweredFrom(*SocketAddress::parse("[::1]:" + std::to_string(port)), "[::1]:0");
}

TEST_CASE("An allocation made through 127.0.0.5 on a wildcard listener relays both ways from 127.0.0.5") {
  const uint16_t port = testing::freeUdpPort();
  ServerProcess s(config(port));
  REQUIRE(s.ready());
  const SocketAddress server{IpAddress::v4(127, 0, 0, 5), port};
  auto c = testing::restClient(server, kSecret, "alice");
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  CHECK(alloc->msg().xorMappedAddress() == c.local());
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  testing::CountingPeer peer;
  REQUIRE(c.channelBind(0x4000, peer.addr)->code == 0);
  std::vector<uint8_t> frame;
  const std::vector<uint8_t> payload{1, 2, 3, 4};
  stun::encodeChannelData(frame, 0x4000, payload, false);
  c.send(frame);
  CHECK(peer.count(500) == 1);
  sockaddr_storage ss;
  const socklen_t len = relayed.toSockaddr(ss);
  ::sendto(peer.fd.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  auto back = receiveFrom(c.fd());
  REQUIRE(back);
  CHECK(back->from == server);
  CHECK(stun::isChannelData(back->bytes));
}
