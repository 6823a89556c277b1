// TCP relay (RFC 6062) end to end on loopback: an in-process worker with a
// TCP listener and a manual clock, the project's STUN client on the control
// connection, raw sockets for data connections, and loopback TCP listeners
// standing in for peers.
#include "relay/io/tcp_relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "relay/io/udp_socket.h"
#include "tests/relay/io/harness.h"
#include "tests/support/raw_tcp.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::kAllowLoopback;
using tw::testing::PeerListener;
using tw::testing::RawTcp;
using tw::testing::StunClient;

namespace {

struct TcpRelayHarness : Harness {
  explicit TcpRelayHarness(const std::string& extra = kAllowLoopback) : Harness(extra) {
    REQUIRE(worker->streams().listen(*SocketAddress::parse("127.0.0.1:0")).ok());
    tcpAddress = worker->streams().addresses().front().first;
  }
  StunClient control(const std::string& user = "alice") {
    StunClient c = StunClient::tcp(tcpAddress, [this] { pump(); });
    auto [name, pass] = credential(user);
    c.setCredentials(name, pass);
    return c;
  }
  /// A control connection with a TCP allocation; its relayed address out.
  StunClient allocated(SocketAddress& relayed, const std::string& user = "alice") {
    StunClient c = control(user);
    auto r = c.allocateTcp();
    REQUIRE(r);
    REQUIRE(r->code == 0);
    relayed = *r->msg().xorRelayedAddress();
    return c;
  }
  /// A new data connection that sends ConnectionBind(id) with `owner`'s
  /// credentials; returns it with the answer's code in `code`.
  testing::PumpFn pumper() {
    return [this] { pump(); };
  }
  RawTcp bind(StunClient& owner, uint32_t id, int& code) {
    RawTcp data = RawTcp::connectTo(tcpAddress, pumper());
    auto req = owner.authenticatedRequest(stun::Method::ConnectionBind, [&](stun::MessageBuilder& b) {
      b.addU32(stun::attr::ConnectionId, id);
    });
    data.send(req);
    std::vector<uint8_t> storage;
    auto m = data.readStun(storage);
    REQUIRE(m);
    CHECK(m->method() == stun::Method::ConnectionBind);
    auto ec = m->errorCode();
    code = ec ? ec->code : 0;
    return data;
  }
  /// A control connection, a Connect to a fresh peer listener, the peer's
  /// side of that connection, and a bound data connection.
  struct Joined {
    explicit Joined(StunClient c) : control(std::move(c)) {}
    StunClient control;
    PeerListener peer;
    RawTcp atPeer;
    RawTcp data;
  };
  /// Connect from `c`'s allocation to `peer`: the CONNECTION-ID and the
  /// peer's side of the new connection.
  std::pair<uint32_t, RawTcp> connectTo(StunClient& c, PeerListener& peer) {
    auto r = c.connect(peer.addr);
    REQUIRE(r->code == 0);
    auto atPeer = peer.accept(pumper());
    REQUIRE(atPeer);
    return {*r->msg().connectionId(), std::move(*atPeer)};
  }
  std::unique_ptr<Joined> joined() {
    SocketAddress relayed;
    auto j = std::make_unique<Joined>(allocated(relayed));
    auto [id, atPeer] = connectTo(j->control, j->peer);
    j->atPeer = std::move(atPeer);
    int code = -1;
    j->data = bind(j->control, id, code);
    REQUIRE(code == 0);
    return j;
  }
  uint64_t connectLimited() const {
    return worker->server().counters().rateLimited[size_t(turn::RateLimitKind::Connect)];
  }
  SocketAddress tcpAddress;
};

uint32_t connectionIdOf(const testing::Reply& r) {
  auto id = r.msg().connectionId();
  REQUIRE(id);
  return *id;
}

}  // namespace

TEST_CASE("tcp relay: Connect, early peer data, ConnectionBind, then raw bytes both ways") {
  TcpRelayHarness h;
  PeerListener peer;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  auto r = c.connect(peer.addr);
  REQUIRE(r);
  REQUIRE(r->code == 0);
  const uint32_t id = connectionIdOf(*r);
  CHECK(id != 0);

  SocketAddress from;
  auto atPeer = peer.accept(h.pumper(), &from);
  REQUIRE(atPeer);
  CHECK(from == relayed);  // RFC 6062 §5.2: the connection comes from the relayed address
  REQUIRE(atPeer->send("early banner\n") == 13);  // before ConnectionBind: held, not lost

  int code = -1;
  RawTcp data = h.bind(c, id, code);
  REQUIRE(code == 0);
  REQUIRE(data.fill(13));
  CHECK(data.take(13) == "early banner\n");

  REQUIRE(data.send("GET / HTTP/1.0\r\n\r\n") == 18);
  REQUIRE(atPeer->fill(18));
  CHECK(atPeer->take(18) == "GET / HTTP/1.0\r\n\r\n");
  const auto& relayedBytes = h.server().counters().relayedBytes;
  CHECK(relayedBytes[size_t(turn::Direction::ClientToPeer)][size_t(Transport::Tcp)] == 18);
  CHECK(relayedBytes[size_t(turn::Direction::PeerToClient)][size_t(Transport::Tcp)] == 13);

  // The peer closes: the client data connection follows.
  atPeer->fd.reset();
  CHECK(data.closed());
  CHECK(h.server().tcpConnections().size() == 0);
}

TEST_CASE("tcp relay: a denied peer gets 403 and never sees a SYN") {
  TcpRelayHarness h("");  // default rules: 127.0.0.0/8 is denied
  PeerListener peer;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  auto r = c.connect(peer.addr);
  REQUIRE(r);
  CHECK(r->code == 403);
  auto other = *SocketAddress::parse("127.0.0.2:" + std::to_string(peer.addr.port));
  CHECK(c.connect(other)->code == 403);
  // A SYN would have queued a connection on the listener even unaccepted.
  CHECK_FALSE(peer.accept(h.pumper(), nullptr, 300));
  CHECK(h.worker->tcpRelay().stats().connectsStarted == 0);
  CHECK(h.server().tcpConnections().size() == 0);
}

TEST_CASE("tcp relay: Connect errors 446, 447, 400 and 443") {
  TcpRelayHarness h;
  PeerListener peer;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  REQUIRE(c.connect(peer.addr)->code == 0);
  CHECK(c.connect(peer.addr)->code == 446);  // pending connection to the same peer

  const auto refused = *SocketAddress::parse("127.0.0.1:" + std::to_string(testing::closedTcpPort()));
  CHECK(c.connect(refused)->code == 447);

  CHECK(c.request(stun::Method::Connect)->code == 400);  // no XOR-PEER-ADDRESS
  CHECK(c.connect(*SocketAddress::parse("[::1]:80"))->code == 443);

  StunClient udp = h.authedClient("bob");  // a UDP allocation has no Connect
  REQUIRE(udp.allocate()->code == 0);
  CHECK(udp.connect(peer.addr)->code == 400);
}

TEST_CASE("tcp relay: Allocate TCP needs a stream and no UDP-only attributes") {
  TcpRelayHarness h;
  StunClient udp = h.authedClient();
  CHECK(udp.allocateTcp()->code == 400);  // RFC 6062 §5.1: over UDP

  StunClient c = h.control();
  CHECK(c.allocateTcp([](stun::MessageBuilder& b) { b.addEvenPort(false); })->code == 400);
  CHECK(c.allocateTcp([](stun::MessageBuilder& b) { b.addBytes(stun::attr::DontFragment, {}); })->code ==
        400);
  auto r = c.allocateTcp();
  REQUIRE(r->code == 0);
  // Peers of a TCP allocation are reached with Connect, not channels.
  CHECK(c.channelBind(0x4001, *SocketAddress::parse("127.0.0.1:9"))->code == 400);
  CHECK(c.allocate([](stun::MessageBuilder&) {})->code == 437);  // the 5-tuple is taken
}

TEST_CASE("tcp relay: ConnectionBind refuses unknown ids, other users and UDP") {
  TcpRelayHarness h;
  PeerListener peer;
  SocketAddress relayed;
  StunClient alice = h.allocated(relayed, "alice");
  auto r = alice.connect(peer.addr);
  REQUIRE(r->code == 0);
  const uint32_t id = connectionIdOf(*r);
  REQUIRE(peer.accept(h.pumper()));

  StunClient mallory = h.control("mallory");
  REQUIRE(mallory.request(stun::Method::Binding));
  REQUIRE(mallory.allocateTcp()->code == 0);  // learns a nonce; a valid user
  int code = -1;
  h.bind(mallory, id, code);
  CHECK(code == 400);  // someone else's CONNECTION-ID: the same answer as an unknown one
  h.bind(alice, id ^ 0x5a5a5a5a, code);
  CHECK(code == 400);

  StunClient udp = h.authedClient("alice");
  auto overUdp = udp.request(stun::Method::ConnectionBind,
                             [&](stun::MessageBuilder& b) { b.addU32(stun::attr::ConnectionId, id); });
  CHECK(overUdp->code == 400);
  // The owner still binds it afterwards.
  h.bind(alice, id, code);
  CHECK(code == 0);
}

TEST_CASE("tcp relay: inbound peers need a permission, then get a ConnectionAttempt") {
  TcpRelayHarness h;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);

  RawTcp stranger = RawTcp::connectTo(relayed, h.pumper());  // no permission yet: closed at once
  CHECK(stranger.closed());
  CHECK(h.worker->tcpRelay().stats().refused == 1);

  REQUIRE(c.createPermission(*SocketAddress::parse("127.0.0.1:1"))->code == 0);
  RawTcp inbound = RawTcp::connectTo(relayed, h.pumper());
  REQUIRE(inbound.send("hi") == 2);
  auto attempt = c.receive(2000);
  REQUIRE(attempt);
  auto m = stun::decode(*attempt);
  REQUIRE(m);
  CHECK(m->method() == stun::Method::ConnectionAttempt);
  CHECK(m->messageClass() == stun::MessageClass::Indication);
  const stun::RawAttribute* peerAttr = m->find(stun::attr::XorPeerAddress);
  REQUIRE(peerAttr);
  auto peerAddr = m->xorAddress(*peerAttr);
  REQUIRE(peerAddr);
  CHECK(*peerAddr == inbound.local());
  REQUIRE(m->connectionId());

  int code = -1;
  RawTcp data = h.bind(c, *m->connectionId(), code);
  REQUIRE(code == 0);
  REQUIRE(data.fill(2));
  CHECK(data.take(2) == "hi");
  REQUIRE(data.send("yo") == 2);
  REQUIRE(inbound.fill(2));
  CHECK(inbound.take(2) == "yo");
}

TEST_CASE("tcp relay: Connect fan-out is limited per allocation per minute") {
  TcpRelayHarness h(kAllowLoopback + "quotas:\n  connects_per_minute: 3\n");
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  std::vector<PeerListener> peers(5);
  for (int i = 0; i < 3; ++i) CHECK(c.connect(peers[i].addr)->code == 0);
  auto r = c.connect(peers[3].addr);
  CHECK(r->code == 486);
  CHECK(h.connectLimited() == 1);
  CHECK_FALSE(peers[3].accept(h.pumper(), nullptr, 200));  // refused before any SYN
  h.advance(std::chrono::seconds(21));                     // 3 per minute: one more every 20 s
  CHECK(c.connect(peers[3].addr)->code == 0);
  CHECK(c.connect(peers[4].addr)->code == 486);
}

TEST_CASE("tcp relay: a connection not bound within 30 s is closed") {
  TcpRelayHarness h;
  PeerListener peer;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  auto [id, atPeer] = h.connectTo(c, peer);
  h.advance(std::chrono::seconds(29));
  CHECK_FALSE(atPeer.closed(100));
  h.advance(std::chrono::seconds(2));
  CHECK(atPeer.closed());
  int code = -1;
  h.bind(c, id, code);
  CHECK(code == 400);
}

TEST_CASE("tcp relay: early peer data beyond the buffer waits in TCP and none is lost") {
  TcpRelayHarness h(kAllowLoopback + "transports:\n  tcp_relay_buffer_bytes: 4096\n");
  PeerListener peer;
  SocketAddress relayed;
  StunClient c = h.allocated(relayed);
  auto [id, peerSide] = h.connectTo(c, peer);
  RawTcp* atPeer = &peerSide;
  const int sndbuf = 16384;  // small kernel buffers, so the cap shows as back-pressure
  ::setsockopt(atPeer->fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  std::vector<uint8_t> blob(4 << 20);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7 + i / 251);
  // Write what the kernel takes while nothing is bound: the relay reads
  // only its 4 KiB cap, so the socket buffers fill and the writer waits.
  size_t written = 0;
  for (int i = 0; i < 200 && written < blob.size(); ++i) {
    const ssize_t n =
        ::send(atPeer->fd.get(), blob.data() + written, blob.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) written += static_cast<size_t>(n);
    h.pump();
  }
  CHECK(written < blob.size());  // flow control held the peer back

  int code = -1;
  RawTcp data = h.bind(c, id, code);
  REQUIRE(code == 0);
  // Pump both ends together: the relay's own back-pressure pauses the peer
  // whenever the client falls behind.
  for (int i = 0; i < 20000 && data.in.size() < blob.size(); ++i) {
    if (written < blob.size()) {
      const ssize_t n =
          ::send(atPeer->fd.get(), blob.data() + written, blob.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += static_cast<size_t>(n);
    }
    data.fill(data.in.size() + 1, 1);
  }
  REQUIRE(data.in.size() == blob.size());
  CHECK(std::equal(blob.begin(), blob.end(), data.in.begin()));
}

TEST_CASE("tcp relay: ending the allocation closes its peer connections") {
  TcpRelayHarness h;
  auto j = h.joined();
  REQUIRE(j->control.refresh(0)->code == 0);
  CHECK(j->atPeer.closed());
  CHECK(j->data.closed());
  CHECK(h.worker->tcpRelay().connectionCount() == 0);
  CHECK(h.worker->tcpRelay().listenerCount() == 0);
}

TEST_CASE("tcp relay: a reload that denies the peer closes its connection") {
  TcpRelayHarness h;
  auto j = h.joined();

  auto cfg = policy::parseConfig(testing::harnessConfig(h.config.relay.portMin, h.config.relay.portMax, ""),
                                 "reload.yaml");
  REQUIRE(cfg.ok());
  h.server().setPolicy(policy::buildSnapshot(cfg.value(), 9, {h.address}));
  CHECK(j->atPeer.closed());
  CHECK(j->data.closed());
  CHECK(h.server().tcpConnections().size() == 0);
}

TEST_CASE("tcp relay: relay.tcp false answers 442, and a reload switches it live") {
  TcpRelayHarness h;
  auto off = h.config;
  off.relay.tcp = false;
  h.holder->store(policy::buildSnapshot(off, 7, {h.address}));  // as SIGHUP does
  StunClient c = h.control();
  auto r = c.allocateTcp();
  REQUIRE(r);
  CHECK(r->code == 442);
  h.holder->store(policy::buildSnapshot(h.config, 8, {h.address}));
  CHECK(c.allocateTcp()->code == 0);
}
