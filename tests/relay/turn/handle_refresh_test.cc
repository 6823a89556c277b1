// Refresh (RFC 8656 §7.3) through the socket-less pipeline.
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

TEST_CASE("handle_refresh: extends the lifetime, capped at the maximum") {
  Pipeline p;
  auto c = allocated(p);
  auto r = c.refresh(100000);
  REQUIRE(r->code == 0);
  CHECK(r->msg().lifetime() == 3600u);  // limits.max_allocation_lifetime: 1h
  p.advance(std::chrono::minutes(30));
  CHECK(p.server->allocations().find(c.tuple()) != nullptr);
}

TEST_CASE("handle_refresh: LIFETIME 0 deletes the allocation and frees its port") {
  Pipeline p;
  auto c = allocated(p);
  auto r = c.refresh(0);
  REQUIRE(r->code == 0);
  CHECK(r->msg().lifetime() == 0u);
  CHECK(r->msg().hasMessageIntegrity());
  CHECK(p.server->allocations().find(c.tuple()) == nullptr);
  CHECK(p.io.relays.empty());
  CHECK(p.server->shared().quotas.total() == 0);
}

TEST_CASE("handle_refresh: 437 without an allocation, 441 with other credentials") {
  Pipeline p;
  auto stranger = PipelineClient::authed(p, "alice", "203.0.113.8:1");
  CHECK(stranger.refresh(600)->code == 437);
  auto c = allocated(p);
  auto [name, pass] = p.credential("mallory");
  c.setCredentials(name, pass);
  CHECK(c.refresh(600)->code == 441);
}

TEST_CASE("handle_refresh: 443 for a family the allocation does not have") {
  Pipeline p;
  auto c = allocated(p);
  auto r = c.request(Method::Refresh, [](B& b) {
    b.addAddressFamily(stun::attr::RequestedAddressFamily, 2);
  });
  REQUIRE(r);
  CHECK(r->code == 443);
}

TEST_CASE("handle_refresh: 403 for a blocked user, and the allocation ends on the reload") {
  Pipeline p;
  auto c = allocated(p, "eve");
  p.config.auth.blockedUsers = {"eve"};
  p.server->setPolicy(policy::buildSnapshot(p.config, 5, {p.listener}));
  CHECK(p.server->allocations().find(c.tuple()) == nullptr);
  CHECK(c.refresh(600)->code == 403);
}
