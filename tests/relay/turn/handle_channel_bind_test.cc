// ChannelBind (RFC 8656 §11.2) through the socket-less pipeline.
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

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
  auto none = c.request(Method::ChannelBind,
                        [](B& b) { b.addXorAddress(stun::attr::XorPeerAddress, kPeer); });
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
  Pipeline q("peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 1\n"
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
