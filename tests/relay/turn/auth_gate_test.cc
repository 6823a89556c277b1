// The auth gate every request but Binding passes (RFC 8489 §9.2.4, REST
// usernames), through the socket-less pipeline: 401, 400, 438, 420 and the
// admission that follows a failure (bans, unauthenticated rate).
#include "tests/relay/turn/pipeline_fixtures.h"

using namespace tw;
using namespace tw::testing;
using tw::stun::Method;
using B = tw::stun::MessageBuilder;

namespace {
int codeOf(Pipeline& p, const FiveTuple& t, const std::vector<uint8_t>& req) {
  auto r = p.exchange(t, req);
  REQUIRE(r);
  return r->code;
}
}  // namespace

TEST_CASE("auth_gate: 401 challenge carries REALM and a NONCE, no reason phrase, no MI") {
  Pipeline p;
  PipelineClient c(p, p.tuple());
  auto r = p.exchange(c.tuple(), c.build(
                                     Method::Allocate, [](B& b) { b.addRequestedTransport(17); }, false));
  REQUIRE(r);
  CHECK(r->code == 401);
  auto m = r->msg();
  CHECK(m.realm() == std::string_view(Pipeline::kRealm));
  REQUIRE(m.nonce());
  CHECK(m.errorCode()->reason.empty());
  CHECK_FALSE(m.hasMessageIntegrity());
}

TEST_CASE("auth_gate: 400 for MI without USERNAME/REALM/NONCE or with PASSWORD-ALGORITHMS") {
  Pipeline p;
  auto c = PipelineClient::authed(p);
  REQUIRE(c.refresh(600)->code == 437);  // learns the nonce
  std::vector<uint8_t> bare;
  B b(bare, Method::Refresh, stun::MessageClass::Request, c.newTransactionId());
  b.addMessageIntegrity(std::array<uint8_t, 16>{});
  CHECK(codeOf(p, c.tuple(), bare) == 400);
  auto algo = c.build(
      Method::Refresh,
      [](B& x) {
        const uint8_t v[4] = {0, 1, 0, 0};
        x.addBytes(stun::attr::PasswordAlgorithms, v);
      },
      true);
  CHECK(codeOf(p, c.tuple(), algo) == 400);
}

TEST_CASE("auth_gate: 401 for a bad password, an expired, malformed or too distant name") {
  Pipeline p;
  auto c = PipelineClient::authed(p);
  REQUIRE(c.refresh(600)->code == 437);
  c.setCredentials(c.username(), "wrong");
  CHECK(c.refresh(600)->code == 401);
  c.setCredentials(p.credential("alice", -3600).first, p.credential("alice", -3600).second);
  CHECK(c.refresh(600)->code == 401);  // expired (beyond the 5-minute clock_skew)
  c.setCredentials("no-colon-here", "x");
  CHECK(c.refresh(600)->code == 401);
  c.setCredentials(p.credential("alice", 90 * 86400).first, p.credential("alice", 90 * 86400).second);
  CHECK(c.refresh(600)->code == 401);  // beyond max_ttl
}

TEST_CASE("auth_gate: 438 for a nonce from another address or past its lifetime") {
  Pipeline p;
  auto c = PipelineClient::authed(p, "alice", "203.0.113.5:1");
  REQUIRE(c.allocate()->code == 0);
  auto moved = PipelineClient::authed(p, "alice", "203.0.113.6:1");
  auto req = c.build(
      Method::Refresh, [](B& b) { b.addU32(stun::attr::Lifetime, 600); }, true);
  CHECK(codeOf(p, moved.tuple(), req) == 438);  // c's nonce, sent from elsewhere
  p.advance(std::chrono::minutes(11));          // auth.nonce_lifetime: 10m
  auto stale = c.build(
      Method::Refresh, [](B& b) { b.addU32(stun::attr::Lifetime, 600); }, true);
  CHECK(codeOf(p, c.tuple(), stale) == 438);
  CHECK(c.refresh(600)->code == 437);  // fresh nonce; the allocation expired meanwhile
}

TEST_CASE("auth_gate: 420 for unknown comprehension-required attributes, after auth") {
  Pipeline p;
  auto c = PipelineClient::authed(p);
  auto r = c.request(Method::Refresh, [](B& b) {
    const uint8_t v[4] = {0, 0, 0, 0};
    b.addBytes(0x0031, v);
  });
  REQUIRE(r);
  CHECK(r->code == 420);
  CHECK(r->msg().hasMessageIntegrity());
}

TEST_CASE("auth_gate: failures ban the source address, its NAT neighbours are served") {
  Pipeline p("bans:\n  failed_auth: {threshold: 3, window: 60s, ban_for: 10m}\n");
  auto guesser = PipelineClient::authed(p, "alice", "203.0.113.5:1");
  REQUIRE(guesser.refresh(600)->code == 437);
  guesser.setCredentials(guesser.username(), "guess");
  int answered = 0;
  for (int i = 0; i < 6; ++i) answered += guesser.refresh(600).has_value();
  CHECK(answered < 6);
  CHECK(p.server->shared().bans.isBanned(guesser.tuple().client, p.clock.now()));
  CHECK(p.feed(guesser.tuple(), guesser.build(Method::Binding, {}, false)).empty());
  auto neighbour = PipelineClient::authed(p, "bob", "203.0.113.5:2");
  CHECK(neighbour.allocate()->code == 0);
}
