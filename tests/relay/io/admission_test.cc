// Admission control through a live in-process worker on loopback
// (relay/turn/handle_admission.cc): quotas (486), bandwidth, request rate limits,
// failed-auth bans, blocked users, and a reload applied to live allocations.
#include <catch2/catch.hpp>

#include "relay/io/udp_socket.h"
#include "relay/stun/channel_data.h"
#include "tests/relay/io/harness.h"

using namespace tw;
using tw::stun::Method;
using tw::testing::Harness;
using tw::testing::StunClient;
using tw::turn::DropReason;

namespace {

struct Peer {
  io::UniqueFd fd;
  SocketAddress addr;
  Peer() {
    fd = std::move(io::openUdpSocket(*SocketAddress::parse("127.0.0.1:0"), false).value());
    addr = *io::localAddress(fd.get());
  }
  /// Datagrams that arrive within `ms` of pumping.
  int drain(Harness& h, int ms = 200) {
    std::vector<uint8_t> buf(65536);
    int n = 0;
    for (int i = 0; i < ms; ++i) {
      h.pump();
      while (::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT) >= 0) ++n;
      usleep(1000);
    }
    return n;
  }
  void sendTo(const SocketAddress& to, std::span<const uint8_t> bytes) {
    sockaddr_storage ss;
    const socklen_t len = to.toSockaddr(ss);
    ::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  }
};

std::vector<uint8_t> payload(size_t n) { return std::vector<uint8_t>(n, 0x5a); }

uint64_t drops(Harness& h, DropReason r) { return h.server().counters().dropped(r); }

/// Installs `cfg` as the next policy generation, as a SIGHUP reload does.
void reload(Harness& h, const policy::Config& cfg) {
  const uint64_t next = h.holder->generation() + 1;
  h.holder->store(policy::buildSnapshot(cfg, next, {h.address}));
  h.worker->pollOnce();  // the worker takes it at the top of its next loop iteration
}

StunClient clientFrom(Harness& h, const char* local, const std::string& user) {
  StunClient c(
      h.address, [&h] { h.pump(); }, *SocketAddress::parse(local));
  auto [name, pass] = h.credential(user);
  c.setCredentials(name, pass);
  return c;
}

const std::string kNoRateLimits =
    "rate_limits:\n  requests_per_ip: {rate: 0}\n  unauthenticated_per_ip: {rate: 0}\n"
    "  requests_per_source: {rate: 0}\n  unauthenticated_per_source: {rate: 0}\n";

}  // namespace

TEST_CASE("quotas.per_user: 486 over the quota, recovers when an allocation goes") {
  Harness h("quotas: {per_user: 2}\n");
  StunClient a1 = h.authedClient("alice"), a2 = h.authedClient("alice"), a3 = h.authedClient("alice"),
             b1 = h.authedClient("bob");
  REQUIRE(a1.allocate()->code == 0);
  REQUIRE(a2.allocate()->code == 0);
  auto over = a3.allocate();
  REQUIRE(over);
  CHECK(over->code == 486);
  CHECK(b1.allocate()->code == 0);    // another user is not affected
  REQUIRE(a1.refresh(0)->code == 0);  // delete one
  CHECK(a3.allocate()->code == 0);
  CHECK(h.server().shared().quotas.forUser(a1.username(), a1.local().ip) == 2);
}

TEST_CASE("quotas.per_ip and quotas.total: 486, and recovery on expiry") {
  Harness h("quotas: {per_user: 0, per_ip: 2, total: 3}\n" + kNoRateLimits);
  StunClient c1 = h.authedClient("u1"), c2 = h.authedClient("u2"), c3 = h.authedClient("u3");
  REQUIRE(c1.allocate()->code == 0);
  REQUIRE(c2.allocate()->code == 0);
  CHECK(c3.allocate()->code == 486);  // third from 127.0.0.1
  StunClient other = clientFrom(h, "127.0.0.2:0", "u4");
  REQUIRE(other.allocate()->code == 0);  // total is now 3
  StunClient other2 = clientFrom(h, "127.0.0.2:0", "u5");
  CHECK(other2.allocate()->code == 486);
  h.advance(std::chrono::minutes(11));  // default lifetime 10 min: all expire
  CHECK(h.server().shared().quotas.total() == 0);
  CHECK(c3.allocate()->code == 0);
}

TEST_CASE("quotas.total_bps: 486 when the sum of max_bps would exceed it") {
  Harness h("quotas: {max_bps: 1000, total_bps: 2500}\n");
  StunClient c1 = h.authedClient("u1"), c2 = h.authedClient("u2"), c3 = h.authedClient("u3");
  REQUIRE(c1.allocate()->code == 0);
  REQUIRE(c2.allocate()->code == 0);
  CHECK(c3.allocate()->code == 486);
  CHECK(h.server().shared().quotas.reservedBps() == 2000);
  REQUIRE(c1.refresh(0)->code == 0);  // releases its 1000 B/s reservation
  CHECK(c3.allocate()->code == 0);
}

TEST_CASE("quotas.max_bps: packets over the per-direction budget are dropped and counted") {
  Harness h("peers:\n  allowed: [127.0.0.1/32]\nquotas: {max_bps: 1000}\n");
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  Peer peer;
  REQUIRE(c.createPermission(peer.addr)->code == 0);
  // The manual clock stands still: the burst is one second (1000 bytes).
  for (int i = 0; i < 5; ++i) c.sendIndication(peer.addr, payload(400));
  CHECK(peer.drain(h) == 2);
  CHECK(drops(h, DropReason::OverBandwidth) == 3);
  h.clock.advance(std::chrono::seconds(1));
  c.sendIndication(peer.addr, payload(400));
  CHECK(peer.drain(h) == 1);
  // Peer -> client has its own bucket.
  for (int i = 0; i < 4; ++i) peer.sendTo(relayed, payload(400));
  int got = 0;
  while (c.receive(200)) ++got;
  CHECK(got == 2);
  CHECK(drops(h, DropReason::OverBandwidth) == 5);
}

TEST_CASE("rate_limits.requests_per_ip: over the limit is dropped with no answer") {
  Harness h("rate_limits:\n  requests_per_ip: {rate: 1, burst: 3}\n");
  StunClient c = h.client();
  for (int i = 0; i < 3; ++i) REQUIRE(c.request(Method::Binding));
  std::vector<uint8_t> req;
  stun::MessageBuilder(req, Method::Binding, stun::MessageClass::Request, c.newTransactionId());
  CHECK_FALSE(c.transact(req, 300));
  CHECK(drops(h, DropReason::RateLimited) == 1);
  CHECK(h.server().counters().rateLimited[size_t(turn::RateLimitKind::Requests)] == 1);
  StunClient fromOther(
      h.address, [&h] { h.pump(); }, *SocketAddress::parse("127.0.0.2:0"));
  CHECK(fromOther.request(Method::Binding));  // per source IP
  h.clock.advance(std::chrono::seconds(1));
  CHECK(c.request(Method::Binding));
}

TEST_CASE("rate_limits.unauthenticated_per_ip: challenges beyond the burst get no answer") {
  Harness h("rate_limits:\n  unauthenticated_per_ip: {rate: 1, burst: 2}\n");
  StunClient anon = h.client();
  CHECK(anon.allocate()->code == 401);
  CHECK(anon.allocate()->code == 401);
  std::vector<uint8_t> req;
  stun::MessageBuilder b(req, Method::Allocate, stun::MessageClass::Request, anon.newTransactionId());
  b.addRequestedTransport(17);
  CHECK_FALSE(anon.transact(req, 300));
  CHECK(drops(h, DropReason::RateLimited) == 1);
  CHECK(h.server().counters().rateLimited[size_t(turn::RateLimitKind::Unauthenticated)] == 1);
  // Authenticated requests are not limited by it (the nonce is known).
  StunClient c = h.authedClient();
  h.clock.advance(std::chrono::seconds(1));  // one token for the challenge
  CHECK(c.allocate()->code == 0);
}

TEST_CASE("bans.failed_auth: brute force from one source is banned, its neighbours served") {
  Harness h("bans:\n  failed_auth: {threshold: 3, window: 60s, ban_for: 10m}\n" + kNoRateLimits);
  StunClient attacker(
      h.address, [&h] { h.pump(); }, *SocketAddress::parse("127.0.0.2:0"));
  attacker.setCredentials(h.credential("alice").first, "wrong password");
  int answered = 0;
  for (int i = 0; i < 10; ++i) answered += attacker.allocate().has_value();
  CHECK(answered < 10);
  auto bans = h.server().shared().bans.list(h.clock.now());
  REQUIRE(bans.size() == 1);
  CHECK(bans[0].ip.toString() == "127.0.0.2");
  CHECK(drops(h, DropReason::Banned) > 0);
  CHECK(bans[0].port == attacker.local().port);
  // Everything from the banned source is dropped, even a Binding.
  std::vector<uint8_t> req;
  stun::MessageBuilder(req, Method::Binding, stun::MessageClass::Request, attacker.newTransactionId());
  CHECK_FALSE(attacker.transact(req, 300));
  // Another source on the same IP (a NAT neighbour) is served.
  StunClient neighbour = clientFrom(h, "127.0.0.2:0", "carol");
  CHECK(neighbour.allocate()->code == 0);
  // The legitimate client on 127.0.0.1 is served.
  StunClient good = h.authedClient("bob");
  CHECK(good.allocate()->code == 0);
  // The ban expires on its own.
  h.advance(std::chrono::minutes(10));
  CHECK(h.server().shared().bans.list(h.clock.now()).empty());
  CHECK(attacker.transact(req, 1000));
}

TEST_CASE("A lifted ban serves the IP again") {
  Harness h("bans:\n  failed_auth: {threshold: 1, window: 60s, ban_for: 1h}\n" + kNoRateLimits);
  StunClient attacker(
      h.address, [&h] { h.pump(); }, *SocketAddress::parse("127.0.0.3:0"));
  attacker.setCredentials(h.credential("alice").first, "nope");
  for (int i = 0; i < 3; ++i) attacker.allocate();
  REQUIRE(h.server().shared().bans.isBanned(attacker.local(), h.clock.now()));
  CHECK(h.server().shared().bans.lift(*IpAddress::parse("127.0.0.3")));
  auto [name, pass] = h.credential("alice");
  attacker.setCredentials(name, pass);
  CHECK(attacker.allocate()->code == 0);
}

TEST_CASE("auth.blocked_users: 403 on Allocate, a reload adding a user ends its allocations") {
  Harness h;
  policy::Config cfg = h.config;
  cfg.auth.blockedUsers = {"mallory"};
  reload(h, cfg);
  StunClient m = h.authedClient("mallory");
  auto r = m.allocate();
  REQUIRE(r);
  CHECK(r->code == 403);
  StunClient a = h.authedClient("alice");
  REQUIRE(a.allocate()->code == 0);
  REQUIRE(h.server().allocations().size() == 1);
  cfg.auth.blockedUsers = {"mallory", "alice"};
  reload(h, cfg);
  CHECK(h.server().allocations().size() == 0);
  CHECK(h.server().shared().quotas.forUser(a.username(), a.local().ip) == 0);
  CHECK(a.refresh(600)->code == 403);  // Refresh is refused too
  CHECK(a.allocate()->code == 403);
}

TEST_CASE("A reload that denies a peer revokes permissions and channels of live allocations") {
  Harness h("peers:\n  allowed: [127.0.0.1/32]\n");
  StunClient c = h.authedClient();
  auto alloc = c.allocate();
  REQUIRE(alloc->code == 0);
  const SocketAddress relayed = *alloc->msg().xorRelayedAddress();
  Peer peer;
  REQUIRE(c.channelBind(0x4001, peer.addr)->code == 0);
  std::vector<uint8_t> cd;
  stun::encodeChannelData(cd, 0x4001, payload(10), false);
  c.send(cd);
  CHECK(peer.drain(h) == 1);

  policy::Config tighter = h.config;
  // Allow only a port nobody uses: the peer's port is denied now.
  const uint16_t unused = static_cast<uint16_t>(peer.addr.port == 9 ? 10 : 9);
  tighter.peers.allowed = {policy::PeerRangeConfig{*policy::IpRange::parse("127.0.0.1/32"), "127.0.0.1/32",
                                                   std::make_pair(unused, unused)}};
  reload(h, tighter);
  c.send(cd);                                // ChannelData: the channel is gone
  c.sendIndication(peer.addr, payload(10));  // Send: no permission
  CHECK(peer.drain(h) == 0);
  peer.sendTo(relayed, payload(10));  // peer -> client: no permission
  CHECK_FALSE(c.receive(200));
  CHECK(drops(h, DropReason::NoChannel) == 1);
  CHECK(drops(h, DropReason::NoPermission) >= 2);
  // Re-creating the permission is refused by the new rules.
  CHECK(c.createPermission(peer.addr)->code == 403);
}
