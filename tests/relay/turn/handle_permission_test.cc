// CreatePermission (RFC 8656 §9) through the socket-less pipeline.
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

namespace {
int permit(PipelineClient& c, const std::vector<SocketAddress>& peers) {
  auto r = c.request(Method::CreatePermission, [&](B& b) {
    for (const auto& peer : peers) b.addXorAddress(stun::attr::XorPeerAddress, peer);
  });
  REQUIRE(r);
  return r->code;
}
}  // namespace

TEST_CASE("handle_permission: installs every peer, or none") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  CHECK(permit(c, {kPeer, kPeer2}) == 0);
  turn::Allocation* a = p.server->allocations().find(c.tuple());
  REQUIRE(a);
  CHECK(a->hasPermission(kPeer.ip, p.clock.now()));
  CHECK(a->hasPermission(kPeer2.ip, p.clock.now()));
  // One denied peer: 403 and nothing installed.
  const auto other = *SocketAddress::parse("93.184.216.34:1");
  CHECK(permit(c, {other, kDenied}) == 403);
  CHECK_FALSE(a->hasPermission(other.ip, p.clock.now()));
  // Permissions last 300 s.
  p.advance(std::chrono::seconds(301));
  CHECK_FALSE(a->hasPermission(kPeer.ip, p.clock.now()));
}

TEST_CASE("handle_permission: 400 for missing, malformed and too many peer addresses") {
  Pipeline p(kAllowPeers + "limits:\n  permissions_per_request: 2\n");
  auto c = allocated(p);
  CHECK(permit(c, {}) == 400);  // missing_peer_address
  CHECK(permit(c, {kPeer, kPeer2, kPeer}) == 400);  // too_many_peer_addresses
  auto r = c.request(Method::CreatePermission, [](B& b) {
    const uint8_t bad[3] = {0, 1, 2};
    b.addBytes(stun::attr::XorPeerAddress, bad);
  });
  REQUIRE(r);
  CHECK(r->code == 400);  // bad_peer_address
}

TEST_CASE("handle_permission: 443 for a peer of another family, 403 for a denied peer") {
  Pipeline p(kAllowPeers);
  auto c = allocated(p);
  CHECK(permit(c, {kPeerV6}) == 443);
  CHECK(permit(c, {kDenied}) == 403);
  CHECK(permit(c, {SocketAddress{IpAddress::v4(0, 0, 0, 0), 1}}) == 403);  // never overridable
}

TEST_CASE("handle_permission: 508 over permissions_per_allocation, 437 and 441") {
  Pipeline p("peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 2\n"
             "  permissions_per_allocation: 2\n");
  auto c = allocated(p);
  CHECK(permit(c, {*SocketAddress::parse("93.184.216.1:1"), *SocketAddress::parse("93.184.216.2:1")}) == 0);
  CHECK(permit(c, {*SocketAddress::parse("93.184.216.3:1")}) == 508);
  CHECK(permit(c, {*SocketAddress::parse("93.184.216.1:9")}) == 0);  // a refresh is not new
  auto stranger = PipelineClient::authed(p, "alice", "203.0.113.8:1");
  CHECK(permit(stranger, {*SocketAddress::parse("93.184.216.1:1")}) == 437);
  auto [name, pass] = p.credential("mallory");
  c.setCredentials(name, pass);
  CHECK(permit(c, {*SocketAddress::parse("93.184.216.1:1")}) == 441);
}
