// Refresh (RFC 8656 §7.3) through the socket-less pipeline.
#include "tests/relay/turn/handler_bench.h"

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
  auto r =
      c.request(Method::Refresh, [](B& b) { b.addAddressFamily(stun::attr::RequestedAddressFamily, 2); });
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

namespace {
using tw::testing::answer;
using tw::testing::HandlerBench;
struct Ended {
  std::vector<std::pair<uint64_t, std::string>> calls;
  turn::EndAllocation fn() {
    return [this](uint64_t id, std::string_view why) { calls.emplace_back(id, std::string(why)); };
  }
};
HandlerBench::AddAttrs lifetime(uint32_t s) {
  return [s](B& b) { b.addU32(stun::attr::Lifetime, s); };
}
}  // namespace

TEST_CASE("handleRefresh: LIFETIME min(asked, max), the default without one") {
  HandlerBench h;
  turn::Allocation& a = h.allocate();
  Ended ended;
  h.clock.advance(std::chrono::seconds(10));
  const turn::Outcome longer = turn::handleRefresh(h.request(Method::Refresh, lifetime(100000)), ended.fn());
  CHECK(answer(longer) == "success");
  CHECK(longer.attrs.lifetime == 3600u);
  CHECK(a.expires == h.clock.now() + std::chrono::hours(1));
  const turn::Outcome shorter = turn::handleRefresh(h.request(Method::Refresh, lifetime(60)), ended.fn());
  CHECK(shorter.attrs.lifetime == 60u);
  CHECK(a.expires == h.clock.now() + std::chrono::minutes(1));
  const turn::Outcome plain = turn::handleRefresh(h.request(Method::Refresh), ended.fn());
  CHECK(plain.attrs.lifetime == 600u);
  CHECK(ended.calls.empty());
}

TEST_CASE("handleRefresh: LIFETIME 0 ends the allocation through the pipeline's EndAllocation") {
  HandlerBench h;
  const uint64_t id = h.allocate().id;
  Ended ended;
  const turn::Outcome o = turn::handleRefresh(h.request(Method::Refresh, lifetime(0)), ended.fn());
  CHECK(answer(o) == "success");
  CHECK(o.attrs.lifetime == 0u);
  REQUIRE(ended.calls.size() == 1);
  CHECK(ended.calls[0] == std::pair<uint64_t, std::string>{id, "deleted"});
}

TEST_CASE("handleRefresh: 443 for REQUESTED-ADDRESS-FAMILY the allocation does not serve") {
  HandlerBench h;
  const turn::Allocation& a = h.allocate();
  const Instant before = a.expires;
  Ended ended;
  auto v6 =
      h.request(Method::Refresh, [](B& b) { b.addAddressFamily(stun::attr::RequestedAddressFamily, 2); });
  CHECK(answer(turn::handleRefresh(v6, ended.fn())) == "443 peer_family_mismatch");
  CHECK(a.expires == before);
  auto v4 =
      h.request(Method::Refresh, [](B& b) { b.addAddressFamily(stun::attr::RequestedAddressFamily, 1); });
  CHECK(answer(turn::handleRefresh(v4, ended.fn())) == "success");
}
