// ChannelBind (RFC 8656 §11.2) through the socket-less pipeline.
#include "tests/relay/turn/handler_bench.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;
using tw::testing::answer;
using tw::testing::HandlerBench;
using tw::testing::withPeers;

TEST_CASE("handle_channel_bind: binds, installs the permission, and ChannelData flows") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  REQUIRE(c.channelBind(0x4001, kPeer)->code == 0);
  turn::Allocation* a = p.server->allocations().find(c.tuple());
  REQUIRE(a);
  CHECK(a->hasPermission(kPeer.ip, p.clock.now()));
  const std::vector<uint8_t> cd{0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0};
  p.feed(c.tuple(), std::span(cd).first(7));
  REQUIRE(p.io.toPeer.size() == 1);
  CHECK(p.io.toPeer[0].peer == kPeer);
  CHECK(p.io.toPeer[0].bytes == std::vector<uint8_t>{'a', 'b', 'c'});
  CHECK(c.channelBind(0x4001, kPeer)->code == 0);  // a refresh of the same binding
}

TEST_CASE("handle_channel_bind: 400 for missing or out-of-range channel numbers") {
  Pipeline p(kAllowPeers + "limits:\n  channel_numbers: rfc8656\n");
  auto c = allocated(p);
  auto none =
      c.request(Method::ChannelBind, [](B& b) { b.addXorAddress(stun::attr::XorPeerAddress, kPeer); });
  REQUIRE(none);
  CHECK(none->code == 400);
  CHECK(c.channelBind(0x3FFF, kPeer)->code == 400);
  CHECK(c.channelBind(0x5000, kPeer)->code == 400);  // beyond rfc8656's 0x4FFF
}

TEST_CASE("handle_channel_bind: 400 when number or peer is bound to something else") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  REQUIRE(c.channelBind(0x4001, kPeer)->code == 0);
  CHECK(c.channelBind(0x4001, kPeer2)->code == 400);  // channel_bound_to_other_peer
  CHECK(c.channelBind(0x4002, kPeer)->code == 400);   // peer_bound_to_other_channel
  auto two = c.request(Method::ChannelBind, [](B& b) {
    b.addChannelNumber(0x4003);
    b.addXorAddress(stun::attr::XorPeerAddress, kPeer);
    b.addXorAddress(stun::attr::XorPeerAddress, kPeer2);
  });
  REQUIRE(two);
  CHECK(two->code == 400);  // one_peer_per_channel
}

TEST_CASE("handle_channel_bind: 403 denied, 443 family, 400 on a TCP allocation") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  CHECK(c.channelBind(0x4001, kDenied)->code == 403);
  CHECK(c.channelBind(0x4001, kPeerV6)->code == 443);
  auto t = allocated(p, "tcp", "203.0.113.6:1", true);
  CHECK(t.channelBind(0x4001, kPeer)->code == 400);
}

TEST_CASE("handle_channel_bind: 508 over channels_per_allocation or permissions_per_allocation") {
  Pipeline p("peers:\n  allowed: [93.184.216.0/24]\nquotas:\n  channels_per_allocation: 1\n");
  auto c = allocated(p);
  REQUIRE(c.channelBind(0x4001, *SocketAddress::parse("93.184.216.1:1"))->code == 0);
  CHECK(c.channelBind(0x4002, *SocketAddress::parse("93.184.216.2:1"))->code == 508);
  Pipeline q(
      "peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 1\n"
      "  permissions_per_allocation: 1\n");
  auto d = allocated(q);
  REQUIRE(d.createPermission(*SocketAddress::parse("93.184.216.1:1"))->code == 0);
  CHECK(d.channelBind(0x4002, *SocketAddress::parse("93.184.216.2:1"))->code == 508);
}

TEST_CASE("handle_channel_bind: 437 without an allocation, 441 with other credentials") {
  Pipeline p(kAllowPeers);
  auto stranger = PipelineClient::authed(p, "alice", "203.0.113.8:1");
  CHECK(stranger.channelBind(0x4001, kPeer)->code == 437);
  auto c = allocated(p);
  auto [name, pass] = p.credential("mallory");
  c.setCredentials(name, pass);
  CHECK(c.channelBind(0x4001, kPeer)->code == 441);
}

// handleChannelBind called directly.
namespace {
HandlerBench::AddAttrs channel(std::optional<uint16_t> number, std::vector<SocketAddress> peers) {
  return [=](B& b) {
    if (number) b.addChannelNumber(*number);
    for (const auto& p : peers) b.addXorAddress(stun::attr::XorPeerAddress, p);
  };
}
std::string bindChannel(HandlerBench& h, std::optional<uint16_t> number, std::vector<SocketAddress> peers,
                        const FiveTuple& from) {
  auto req = h.request(Method::ChannelBind, channel(number, std::move(peers)), from);
  return answer(h.keep(turn::handleChannelBind(req, h.peers())));
}
std::string bindChannel(HandlerBench& h, std::optional<uint16_t> number, std::vector<SocketAddress> peers) {
  return bindChannel(h, number, std::move(peers), h.tuple());
}
}  // namespace

TEST_CASE("handleChannelBind: binds for channel_lifetime and installs the peer's permission") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate();
  CHECK(bindChannel(h, 0x4001, {kPeer}) == "success");
  const turn::ChannelBinding* ch = a.activeChannel(0x4001, h.clock.now());
  REQUIRE(ch);
  CHECK(ch->peer == kPeer);
  CHECK(ch->expires == h.clock.now() + std::chrono::minutes(10));
  CHECK(a.hasPermission(kPeer.ip, h.clock.now()));
}

TEST_CASE("handleChannelBind: every 400") {
  HandlerBench h(kAllowPeers + "limits:\n  channel_numbers: rfc8656\n");
  h.allocate();
  CHECK(bindChannel(h, std::nullopt, {kPeer}) == "400 missing_channel_number");
  CHECK(bindChannel(h, 0x3FFF, {kPeer}) == "400 bad_channel_number");
  CHECK(bindChannel(h, 0x5000, {kPeer}) == "400 bad_channel_number");
  CHECK(bindChannel(h, 0x4001, {}) == "400 missing_peer_address");
  CHECK(bindChannel(h, 0x4001, {kPeer, kPeer2}) == "400 one_peer_per_channel");
  REQUIRE(bindChannel(h, 0x4001, {kPeer}) == "success");
  CHECK(bindChannel(h, 0x4001, {kPeer2}) == "400 channel_bound_to_other_peer");
  CHECK(bindChannel(h, 0x4002, {kPeer}) == "400 peer_bound_to_other_channel");
  const auto tcp = h.tuple("203.0.113.6:1", Transport::Tcp);
  h.allocate(tcp, 6);
  CHECK(bindChannel(h, 0x4001, {kPeer}, tcp) == "400 channel_bind_on_tcp_allocation");
}

TEST_CASE("handleChannelBind: 403 for a denied peer, 443 for another family") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate();
  CHECK(bindChannel(h, 0x4001, {kDenied}) == "403 peer_denied");
  REQUIRE(h.reported.size() == 1);
  CHECK_THAT(h.reported[0], Catch::StartsWith("peer_denied 10.0.0.1:80 "));
  CHECK(bindChannel(h, 0x4001, {kPeerV6}) == "443 peer_family_mismatch");
  CHECK(a.channels.empty());
  CHECK(a.permissions.empty());
}

TEST_CASE("handleChannelBind: 508 over channels_per_allocation or permissions_per_allocation") {
  HandlerBench h(
      "peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 1\n"
      "quotas: {channels_per_allocation: 1, permissions_per_allocation: 2}\n");
  turn::Allocation& a = h.allocate();
  CHECK(bindChannel(h, 0x4001, {*SocketAddress::parse("93.184.216.1:1")}) == "success");
  CHECK(bindChannel(h, 0x4002, {*SocketAddress::parse("93.184.216.2:1")}) == "508 too_many_channels");
  // Two permissions live (the channel's and another): a new channel's peer finds no room.
  REQUIRE(a.installPermission(*IpAddress::parse("93.184.216.9"), h.clock.now() + std::chrono::minutes(5),
                              h.clock.now(), 2));
  a.channels.clear();
  CHECK(bindChannel(h, 0x4003, {*SocketAddress::parse("93.184.216.3:1")}) == "508 too_many_permissions");
}
