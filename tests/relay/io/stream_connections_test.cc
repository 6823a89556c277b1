// TURN over TCP end to end on loopback: an in-process worker with a TCP
// listener, the project's STUN client in stream mode, a UDP peer.
#include "relay/io/stream_connections.h"

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <vector>

#include "relay/stun/channel_data.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::testing::Harness;
using tw::testing::kAllowLoopback;
using tw::testing::StunClient;
using tw::testing::UdpPeer;

namespace {

struct TcpHarness : Harness {
  explicit TcpHarness(const std::string& extra = kAllowLoopback) : Harness(extra) {
    REQUIRE(worker->streams().listen(*SocketAddress::parse("127.0.0.1:0")).ok());
    tcpAddress = worker->streams().addresses().front().first;
  }
  StunClient tcpClient(const std::string& local = "127.0.0.1:0") {
    StunClient c = StunClient::tcp(
        tcpAddress, [this] { pump(); }, *SocketAddress::parse(local));
    auto [name, pass] = credential("alice");
    c.setCredentials(name, pass);
    return c;
  }
  void sweep() {
    worker->streams().sweep([this](const FiveTuple& t) { return server().allocations().find(t) != nullptr; });
  }
  SocketAddress tcpAddress;
};

}  // namespace

TEST_CASE("tcp: allocate, bind a channel, relay both ways with ChannelData padded to 4") {
  TcpHarness h;
  UdpPeer peer;
  StunClient c = h.tcpClient();
  auto alloc = c.allocate();
  REQUIRE(alloc);
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  CHECK(alloc->msg().xorMappedAddress() == c.local());
  REQUIRE(c.channelBind(0x4001, peer.addr)->code == 0);

  std::vector<uint8_t> frame;
  const std::vector<uint8_t> hello{'h', 'e', 'l', 'l', 'o'};
  stun::encodeChannelData(frame, 0x4001, hello, /*padTo4=*/true);
  c.send(frame);
  auto atPeer = peer.receive(h);
  REQUIRE(atPeer);
  CHECK(*atPeer == hello);

  const std::vector<uint8_t> back{'w', 'o', 'r', 'l', 'd', '!'};
  peer.sendTo(relayed, back);
  auto got = c.receive(2000);
  REQUIRE(got);
  CHECK(got->size() == 12);  // 4 + 6, padded to 8
  auto cd = stun::decodeChannelData(*got);
  REQUIRE(cd.ok());
  CHECK(cd->channel == 0x4001);
  CHECK(std::vector<uint8_t>(cd->payload.begin(), cd->payload.end()) == back);
  CHECK(h.worker->server().allocations().find(FiveTuple{c.local(), h.tcpAddress, Transport::Tcp}) != nullptr);
}

TEST_CASE("tcp: closing the connection deletes its allocation and frees the port") {
  TcpHarness h;
  const size_t inUseBefore = h.pool().inUse();
  {
    StunClient c = h.tcpClient();
    REQUIRE(c.allocate()->code == 0);
    CHECK(h.server().allocations().size() == 1);
  }  // closes the socket
  for (int i = 0; i < 500 && h.server().allocations().size() != 0; ++i) {
    h.pump();
    usleep(1000);
  }
  CHECK(h.server().allocations().size() == 0);
  CHECK(h.pool().inUse() == inUseBefore);
  CHECK(h.worker->streams().connectionCount() == 0);
  CHECK(h.worker->streams().stats().closedByPeer == 1);
}

TEST_CASE("tcp: a length claim above the cap closes the connection and is counted") {
  TcpHarness h;
  StunClient c = h.tcpClient();
  REQUIRE(c.request(stun::Method::Binding)->code == 0);      // the stream works
  const std::vector<uint8_t> claim{0x40, 0x00, 0xFF, 0xFF};  // 65,535 bytes, then silence
  c.send(claim);
  CHECK(c.waitClosed(3000));
  CHECK(h.worker->streams().stats().closedOversize == 1);
  CHECK(h.worker->streams().connectionCount() == 0);
}

TEST_CASE("tcp: bytes that are neither STUN nor ChannelData close the connection") {
  TcpHarness h;
  StunClient c = h.tcpClient();
  // First two bits 0b10: no STUN message or ChannelData starts like that.
  const std::vector<uint8_t> junk{0x80, 0x01, 0x00, 0x08, 0, 0, 0, 0};
  c.send(junk);
  CHECK(c.waitClosed(3000));
  CHECK(h.worker->streams().stats().closedDesync == 1);
}

TEST_CASE("tcp: idle connections without an allocation are closed, allocated ones kept") {
  TcpHarness h;
  StunClient idle = h.tcpClient();
  StunClient busy = h.tcpClient();
  REQUIRE(idle.request(stun::Method::Binding)->code == 0);
  REQUIRE(busy.allocate()->code == 0);
  REQUIRE(h.worker->streams().connectionCount() == 2);
  CHECK(h.worker->streams().connectionCount(Transport::Tcp) == 2);  // per listener kind
  CHECK(h.worker->streams().connectionCount(Transport::Tls) == 0);
  h.clock.advance(h.worker->streams().limits().idleTimeout - std::chrono::seconds(1));
  h.sweep();
  CHECK(h.worker->streams().connectionCount() == 2);
  h.clock.advance(std::chrono::seconds(2));
  h.sweep();
  CHECK(idle.waitClosed(3000));
  CHECK(h.worker->streams().connectionCount() == 1);
  CHECK(h.worker->streams().stats().closedIdle == 1);
  CHECK(busy.refresh(600)->code == 0);
}

TEST_CASE("tcp: connections beyond the per-IP cap are refused, other IPs still served") {
  TcpHarness h;
  io::StreamLimits limits = h.worker->streams().limits();
  limits.maxConnectionsPerIp = 3;
  h.worker->streams().setLimits(limits);
  std::vector<StunClient> flood;
  for (int i = 0; i < 6; ++i) flood.push_back(h.tcpClient("127.0.0.2:0"));
  for (int i = 0;
       i < 200 && h.worker->streams().stats().accepted + h.worker->streams().stats().rejectedPerIp < 6; ++i) {
    h.pump();
    usleep(1000);
  }
  CHECK(h.worker->streams().stats().accepted == 3);
  CHECK(h.worker->streams().stats().rejectedPerIp == 3);
  CHECK(h.worker->streams().connectionsFrom(*IpAddress::parse("127.0.0.2")) == 3);
  StunClient ok = h.tcpClient("127.0.0.1:0");
  CHECK(ok.allocate()->code == 0);
}

TEST_CASE("tcp abuse: 1,000 half-open connections from one IP stay within the cap, others served") {
  // Each client socket is a descriptor in this process: make room for them.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2048 && lim.rlim_max >= 2048) {
    lim.rlim_cur = 2048;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  REQUIRE(lim.rlim_cur >= 2048);
  TcpHarness h;
  const size_t cap = h.worker->streams().limits().maxConnectionsPerIp;
  std::vector<StunClient> flood;
  flood.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    flood.push_back(h.tcpClient("127.0.0.2:0"));  // connects, then never says a word
    if (i % 50 == 0) h.pump();
  }
  const auto& st = h.worker->streams().stats();
  for (int i = 0; i < 3000 && st.accepted + st.rejectedPerIp < 1000; ++i) {
    h.pump();
    usleep(1000);
  }
  CHECK(st.accepted == cap);
  CHECK(st.rejectedPerIp == 1000 - cap);
  CHECK(h.worker->streams().connectionsFrom(*IpAddress::parse("127.0.0.2")) == cap);
  StunClient ok = h.tcpClient("127.0.0.1:0");
  CHECK(ok.allocate()->code == 0);
  // The half-open ones that were admitted go at the idle timeout.
  h.clock.advance(h.worker->streams().limits().idleTimeout);
  h.sweep();
  CHECK(h.worker->streams().connectionsFrom(*IpAddress::parse("127.0.0.2")) == 0);
  CHECK(h.worker->streams().connectionCount() == 1);
}

TEST_CASE("tcp: a client that stops reading gets relay data dropped, not buffered without bound") {
  TcpHarness h;
  io::StreamLimits limits = h.worker->streams().limits();
  limits.outputHighWatermark = 8192;
  h.worker->streams().setLimits(limits);
  UdpPeer peer;
  StunClient c = h.tcpClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  const std::vector<uint8_t> chunk(1200, 0x5A);
  const auto& st = h.worker->streams().stats();
  // The client never reads: kernel buffers fill, then the output evbuffer does.
  for (int i = 0; i < 20000 && st.backpressureDrops == 0; ++i) {
    peer.sendTo(relayed, chunk);
    if (i % 8 == 0) h.pump();
  }
  CHECK(st.backpressureDrops > 0);
  CHECK(h.worker->streams().connectionCount() == 1);  // dropped data, kept the client
}
