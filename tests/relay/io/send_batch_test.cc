// SendBatch on real loopback sockets: everything queued arrives, in order per
// socket, with one sendmmsg per socket, and same-size runs to one
// destination ride one GSO message. DatagramBatch + packet info: a wildcard
// socket learns each datagram's destination and answers from it.
#include "relay/io/send_batch.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <vector>

#include "relay/io/datagram_batch.h"
#include "relay/io/udp_socket.h"

using namespace tw;

namespace {

struct Sock {
  io::UniqueFd fd;
  SocketAddress addr;
  explicit Sock(const char* at = "127.0.0.1:0") {
    fd = std::move(io::openUdpSocket(*SocketAddress::parse(at), false).value());
    addr = *io::localAddress(fd.get());
  }
  /// Payloads waiting on the socket, in arrival order.
  std::vector<std::vector<uint8_t>> drain() {
    std::vector<std::vector<uint8_t>> out;
    std::vector<uint8_t> buf(65536);
    ssize_t n;
    while ((n = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT)) >= 0)
      out.emplace_back(buf.begin(), buf.begin() + n);
    return out;
  }
};

std::vector<uint8_t> datagram(uint8_t tag, size_t size) { return std::vector<uint8_t>(size, tag); }

}  // namespace

TEST_CASE("send batch: same-size runs to one destination go as GSO, order kept per socket") {
  Sock a, b, sink1, sink2;
  io::SendBatch batch(/*gso=*/true);
  for (uint8_t i = 0; i < 10; ++i) batch.push(a.fd.get(), sink1.addr, std::nullopt, datagram(i, 164));
  batch.push(b.fd.get(), sink2.addr, std::nullopt, datagram(100, 50));
  batch.push(a.fd.get(), sink1.addr, std::nullopt, datagram(10, 80));  // ends the run
  batch.push(a.fd.get(), sink1.addr, std::nullopt, datagram(11, 164));
  batch.push(b.fd.get(), sink2.addr, std::nullopt, datagram(101, 50));
  CHECK(batch.flush() == 0);
  CHECK(batch.empty());
  const auto got1 = sink1.drain();
  REQUIRE(got1.size() == 12);
  for (size_t i = 0; i < got1.size(); ++i) {
    CHECK(got1[i].front() == i);  // in push order
    CHECK(got1[i].size() == (i == 10 ? 80u : 164u));
  }
  const auto got2 = sink2.drain();
  REQUIRE(got2.size() == 2);
  CHECK(got2[0].front() == 100);
  CHECK(got2[1].front() == 101);
  CHECK(batch.stats().datagrams == 14);
  CHECK(batch.stats().syscalls == 2);  // one sendmmsg per socket
  CHECK(batch.stats().gsoRuns == 2);   // a's run of 10, b's run of 2
}

TEST_CASE("send batch: without GSO every datagram is its own message, still one sendmmsg per socket") {
  Sock a, sink;
  io::SendBatch batch(/*gso=*/false);
  for (uint8_t i = 0; i < 40; ++i) batch.push(a.fd.get(), sink.addr, std::nullopt, datagram(i, 200));
  CHECK(batch.flush() == 0);
  CHECK(sink.drain().size() == 40);
  CHECK(batch.stats().syscalls == 1);
  CHECK(batch.stats().gsoRuns == 0);
}

TEST_CASE("send batch: a full batch flushes itself, and forget() drops a closing socket's datagrams") {
  Sock a, b, sink, sink2;
  io::SendBatch batch;
  // Two sinks: 256 datagrams overflow one default receive buffer.
  for (size_t i = 0; i < io::SendBatch::kMaxDatagrams + 5; ++i)
    batch.push(a.fd.get(), i % 2 ? sink2.addr : sink.addr, std::nullopt, datagram(1, 100));
  // The first batch left on push.
  CHECK(sink.drain().size() + sink2.drain().size() == io::SendBatch::kMaxDatagrams);
  batch.push(b.fd.get(), sink.addr, std::nullopt, datagram(2, 100));
  batch.forget(a.fd.get());
  CHECK(batch.flush() == 0);
  const auto got = sink.drain();
  REQUIRE(got.size() == 1);
  CHECK(got[0].front() == 2);
}

TEST_CASE("wildcard socket: learns each datagram's destination and answers from it") {
  Sock server("0.0.0.0:0");
  io::enableDestinationInfo(server.fd.get(), Family::V4);
  const uint16_t port = server.addr.port;
  for (const auto* dst : {"127.0.0.1", "127.0.0.5"}) {
    INFO(dst);
    Sock client;
    const SocketAddress to{*IpAddress::parse(dst), port};
    const std::vector<uint8_t> hello{1, 2, 3};
    sockaddr_storage ss;
    const socklen_t len = to.toSockaddr(ss);
    REQUIRE(::sendto(client.fd.get(), hello.data(), hello.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
            3);
    io::DatagramBatch in;
    REQUIRE(in.receive(server.fd.get()) == 1);
    REQUIRE(in.destination(0));
    CHECK(*in.destination(0) == to.ip);
    // Batched answer (packet info from the destination).
    io::SendBatch out;
    out.push(server.fd.get(), *in.source(0), in.destination(0), hello);
    REQUIRE(out.flush() == 0);
    sockaddr_storage from;
    socklen_t fromLen = sizeof from;
    std::vector<uint8_t> buf(64);
    REQUIRE(::recvfrom(client.fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                       &fromLen) == 3);
    CHECK(*SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&from)) == to);
    // Single datagram helper.
    REQUIRE(io::sendDatagramFrom(server.fd.get(), *in.source(0), to.ip, hello));
    fromLen = sizeof from;
    REQUIRE(::recvfrom(client.fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                       &fromLen) == 3);
    CHECK(*SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&from)) == to);
  }
}

TEST_CASE("send batch through io_uring: every socket's messages in one io_uring_enter, order and GSO kept") {
  std::string why;
  auto ring = io::UringSender::open(64, why);
  REQUIRE(ring);  // this machine class runs io_uring (kernel 6.18); `why` says otherwise
  Sock a, b, c, sink1, sink2;
  io::SendBatch batch(/*gso=*/true);
  batch.useRing(ring.get());
  for (uint8_t i = 0; i < 10; ++i) batch.push(a.fd.get(), sink1.addr, std::nullopt, datagram(i, 164));
  batch.push(b.fd.get(), sink2.addr, std::nullopt, datagram(100, 50));
  batch.push(a.fd.get(), sink1.addr, std::nullopt, datagram(10, 80));
  batch.push(c.fd.get(), sink2.addr, std::nullopt, datagram(102, 60));
  // Refused by the kernel (an IPv6 destination on an IPv4 socket): counted,
  // and the rest still leaves.
  batch.push(c.fd.get(), *SocketAddress::parse("[::1]:9"), std::nullopt, datagram(7, 60));
  CHECK(batch.flush() == 1);
  const auto got1 = sink1.drain();
  REQUIRE(got1.size() == 11);
  for (size_t i = 0; i < got1.size(); ++i) CHECK(got1[i].front() == i);
  CHECK(sink2.drain().size() == 2);
  CHECK(batch.stats().datagrams == 13);
  CHECK(batch.stats().refused == 1);
  CHECK(batch.stats().syscalls == 1);  // one io_uring_enter for three sockets
  CHECK(batch.stats().gsoRuns == 1);
  CHECK(ring->enters() == 1);
}

TEST_CASE("send batch through io_uring: a batch larger than the ring takes one enter per ring-full") {
  std::string why;
  auto ring = io::UringSender::open(8, why);
  REQUIRE(ring);
  std::vector<Sock> from(20);
  Sock sink;
  io::SendBatch batch(/*gso=*/false);
  batch.useRing(ring.get());
  for (auto& s : from) batch.push(s.fd.get(), sink.addr, std::nullopt, datagram(3, 100));
  CHECK(batch.flush() == 0);
  CHECK(sink.drain().size() == 20);
  CHECK(batch.stats().syscalls == 3);  // 8 + 8 + 4
}
