// UringReceiver on real loopback sockets: a multishot receive per socket
// delivers every datagram with its source and the socket's token, truncation
// is reported, buffers running out re-arms the receive without losing what
// the socket holds, and a cancelled socket's late completions are ignored.
#include "relay/io/uring.h"

#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <vector>

#include "relay/io/udp_socket.h"

using namespace tw;

namespace {

struct Sock {
  io::UniqueFd fd;
  SocketAddress addr;
  explicit Sock(int rcvbuf = 0) {
    fd = std::move(io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false, rcvbuf).value());
    addr = *io::localAddress(fd.get());
  }
  void sendTo(const SocketAddress& to, size_t size, uint8_t tag) const {
    std::vector<uint8_t> b(size, tag);
    sockaddr_storage ss;
    const socklen_t len = to.toSockaddr(ss);
    REQUIRE(::sendto(fd.get(), b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
            static_cast<ssize_t>(size));
  }
};

struct Got {
  uint64_t token;
  SocketAddress source;
  std::vector<uint8_t> payload;
  bool truncated;
};

struct Recorder final : io::UringReceiver::Handler {
  std::map<uint64_t, int> fds;  // the live sockets by token
  std::vector<Got> got;
  std::vector<uint64_t> failed;
  void onDatagram(uint64_t token, const SocketAddress& source, std::span<const uint8_t> payload,
                  bool truncated) override {
    got.push_back({token, source, {payload.begin(), payload.end()}, truncated});
  }
  int fdFor(uint64_t token) override {
    auto it = fds.find(token);
    return it == fds.end() ? -1 : it->second;
  }
  void onReceiveFailed(uint64_t token, int) override { failed.push_back(token); }
};

/// Reaps until `want` datagrams arrived or `rounds` polls of 10 ms passed
/// (the ring fd is polled, as libevent does).
void reapUntil(io::UringReceiver& r, Recorder& rec, size_t want, int rounds = 200) {
  for (int i = 0; i < rounds && rec.got.size() < want; ++i) {
    pollfd p{r.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    r.reap(rec);
  }
}

std::unique_ptr<io::UringReceiver> openReceiver() {
  std::string why;
  auto r = io::UringReceiver::open(why);
  INFO(why);
  REQUIRE(r);  // this machine class runs io_uring (kernel 6.18)
  return r;
}

}  // namespace

TEST_CASE("uring receiver: every datagram of every armed socket, with its source and token") {
  auto r = openReceiver();
  Recorder rec;
  Sock relay1, relay2, peer;
  rec.fds = {{11, relay1.fd.get()}, {22, relay2.fd.get()}};
  REQUIRE(r->arm(relay1.fd.get(), 11));
  REQUIRE(r->arm(relay2.fd.get(), 22));
  for (uint8_t i = 0; i < 5; ++i) peer.sendTo(relay1.addr, 160, i);
  peer.sendTo(relay2.addr, 1200, 9);
  reapUntil(*r, rec, 6);
  REQUIRE(rec.got.size() == 6);
  size_t first = 0;
  for (const auto& g : rec.got) {
    CHECK(g.source == peer.addr);
    CHECK_FALSE(g.truncated);
    if (g.token == 11) {
      CHECK(g.payload.size() == 160);
      CHECK(g.payload.front() == first++);  // in order per socket
    } else {
      CHECK(g.token == 22);
      CHECK(g.payload.size() == 1200);
    }
  }
  CHECK(first == 5);
  CHECK(r->stats().datagrams == 6);
  CHECK(rec.failed.empty());
}

TEST_CASE("uring receiver: a datagram larger than a buffer is reported truncated") {
  auto r = openReceiver();
  Recorder rec;
  Sock relay, peer;
  rec.fds = {{1, relay.fd.get()}};
  REQUIRE(r->arm(relay.fd.get(), 1));
  peer.sendTo(relay.addr, io::UringReceiver::kPayload + 100, 1);
  peer.sendTo(relay.addr, 100, 2);
  reapUntil(*r, rec, 2);
  REQUIRE(rec.got.size() == 2);
  CHECK(rec.got[0].truncated);
  CHECK_FALSE(rec.got[1].truncated);
  CHECK(rec.got[1].payload.front() == 2);
}

TEST_CASE("uring receiver: when the buffers run out the receive is armed again and nothing is lost") {
  auto r = openReceiver();
  Recorder rec;
  Sock relay(8 << 20), peer;  // a receive buffer that holds them all
  rec.fds = {{5, relay.fd.get()}};
  REQUIRE(r->arm(relay.fd.get(), 5));
  const size_t n = io::UringReceiver::kBuffers + 300;
  for (size_t i = 0; i < n; ++i) peer.sendTo(relay.addr, 100, static_cast<uint8_t>(i));
  reapUntil(*r, rec, n);
  CHECK(rec.got.size() == n);
  CHECK(r->stats().rearmed >= 1);
  CHECK(rec.failed.empty());
  for (size_t i = 0; i < rec.got.size(); ++i) CHECK(rec.got[i].payload.front() == static_cast<uint8_t>(i));
}

TEST_CASE("uring receiver: a cancelled socket gets nothing more, and a token that is gone is ignored") {
  auto r = openReceiver();
  Recorder rec;
  Sock relay, other, peer;
  rec.fds = {{7, relay.fd.get()}, {8, other.fd.get()}};
  REQUIRE(r->arm(relay.fd.get(), 7));
  REQUIRE(r->arm(other.fd.get(), 8));
  r->cancel(7);
  rec.fds.erase(7);
  peer.sendTo(relay.addr, 100, 1);
  // Gone from the owner's table while its datagram is in flight: dropped.
  rec.fds.erase(8);
  peer.sendTo(other.addr, 100, 2);
  reapUntil(*r, rec, 1, 20);  // 200 ms for anything that should not come
  CHECK(rec.got.empty());
  CHECK(rec.failed.empty());
}

TEST_CASE("uring receiver: once cancel() returns, closing the socket frees its port at once") {
  // The request holds the socket's file: a deleted allocation's port must be
  // bindable again right away (the port pool hands it out), as with epoll.
  auto r = openReceiver();
  Recorder rec;
  for (int i = 0; i < 20; ++i) {
    auto relay = std::make_unique<Sock>();
    const SocketAddress at = relay->addr;
    const uint64_t token = 100 + static_cast<uint64_t>(i);
    rec.fds = {{token, relay->fd.get()}};
    REQUIRE(r->arm(relay->fd.get(), token));
    r->submit();
    r->cancel(token);
    rec.fds.clear();
    relay.reset();  // close
    auto again = io::openUdpSocket(at, false);
    INFO("attempt " << i << ": " << std::strerror(again ? 0 : again.error()));
    CHECK(again.ok());
  }
  r->reap(rec);
  CHECK(rec.got.empty());
}
