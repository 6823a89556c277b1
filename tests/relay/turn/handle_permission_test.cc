// CreatePermission (RFC 8656 §9) through the socket-less pipeline.
#include "tests/relay/turn/handler_bench.h"

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
  CHECK(permit(c, {}) == 400);                      // missing_peer_address
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
  Pipeline p(
      "peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 2\n"
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

// handleCreatePermission called directly: the reason of each refusal, the
// denial event, and that a refused request installs nothing.
TEST_CASE("handleCreatePermission: installs every peer for permission_lifetime, keeping its port") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate();
  auto req = h.request(Method::CreatePermission, withPeers({kPeer, kPeer2}));
  const turn::Outcome o = turn::handleCreatePermission(req, h.peers());
  CHECK(answer(o) == "success");
  CHECK(o.events.empty());
  REQUIRE(a.permissions.size() == 2);
  CHECK(a.permissions[0].port == kPeer.port);
  CHECK(a.permissions[0].expires == h.clock.now() + std::chrono::minutes(5));
}

TEST_CASE("handleCreatePermission: 400 for a missing, malformed or too long peer list") {
  HandlerBench h(kAllowPeers + "limits:\n  permissions_per_request: 2\n");
  turn::Allocation& a = h.allocate();
  auto permit = [&](const HandlerBench::AddAttrs& add) {
    return answer(turn::handleCreatePermission(h.request(Method::CreatePermission, add), h.peers()));
  };
  CHECK(permit({}) == "400 missing_peer_address");
  CHECK(permit(withPeers({kPeer, kPeer2, kPeer})) == "400 too_many_peer_addresses");
  CHECK(permit([](B& b) {
          const uint8_t bad[3] = {0, 1, 2};
          b.addBytes(stun::attr::XorPeerAddress, bad);
        }) == "400 bad_peer_address");
  CHECK(a.permissions.empty());
}

TEST_CASE("handleCreatePermission: 443 for another family, 403 with the rule for a denied peer") {
  HandlerBench h(kAllowPeers);
  turn::Allocation& a = h.allocate();
  auto permit = [&](std::vector<SocketAddress> peers) {
    auto req = h.request(Method::CreatePermission, withPeers(std::move(peers)));
    return turn::handleCreatePermission(req, h.peers());
  };
  CHECK(answer(permit({kPeer, kPeerV6})) == "443 peer_family_mismatch");
  const turn::Outcome denied = permit({kPeer, kDenied});
  CHECK(answer(denied) == "403 peer_denied");
  CHECK_FALSE(denied.detail.empty());
  CHECK(describe(denied) ==
        std::vector<std::string>{"peer_denied " + kDenied.toString() + " " + denied.detail});
  const turn::Outcome loop = permit({a.relayed});  // its own relayed address: a loop
  CHECK(answer(loop) == "403 peer_denied");
  CHECK(describe(loop) ==
        std::vector<std::string>{"peer_denied " + a.relayed.toString() + " loop:own-relayed-address"});
  CHECK(a.permissions.empty());  // all or nothing
}

TEST_CASE("handleCreatePermission: 508 over permissions_per_allocation, refreshing is not new") {
  HandlerBench h(
      "peers:\n  allowed: [93.184.216.0/24]\nlimits:\n  permissions_per_request: 2\n"
      "  permissions_per_allocation: 2\n");
  turn::Allocation& a = h.allocate();
  const auto p1 = *SocketAddress::parse("93.184.216.1:1"), p2 = *SocketAddress::parse("93.184.216.2:1");
  auto permit = [&](std::vector<SocketAddress> peers) {
    auto req = h.request(Method::CreatePermission, withPeers(std::move(peers)));
    return answer(turn::handleCreatePermission(req, h.peers()));
  };
  CHECK(permit({p1, p2}) == "success");
  CHECK(permit({*SocketAddress::parse("93.184.216.3:1")}) == "508 too_many_permissions");
  CHECK(permit({SocketAddress{p1.ip, 9}}) == "success");
  CHECK(a.permissions.size() == 2);
  // Expired permissions make room again (swept before counting).
  h.clock.advance(std::chrono::minutes(6));
  CHECK(permit({*SocketAddress::parse("93.184.216.3:1")}) == "success");
}

TEST_CASE("handle_permission: behind 1:1 NAT the listener's port on the external address is 403 self") {
  // Issue 21: even an operator allowing everything cannot open it.
  Pipeline p("peers:\n  allowed: [0.0.0.0/0]\n");
  p.useExternal(*IpAddress::parse("203.0.113.10"));
  auto c = allocated(p);
  auto r = c.createPermission(*SocketAddress::parse("203.0.113.10:3478"));
  REQUIRE(r);
  CHECK(r->code == 403);
  CHECK(p.policy->checkPeer("", *SocketAddress::parse("203.0.113.10:3478")).rule == "self:203.0.113.10:3478");
  CHECK(permit(c, {*SocketAddress::parse("198.51.100.1:3478")}) == 403);  // the bound one, as before
  CHECK(permit(c, {*SocketAddress::parse("203.0.113.10:3479")}) == 0);    // another port
}
