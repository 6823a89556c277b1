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

// Tenants apart (auth.realms): the pipeline's own listener serves the
// top-level realm pipeline.test (the global keyring); a second listener at
// 198.51.100.2 serves tenant-b.test with its own keyring and a private peer.
namespace {
constexpr const char* kTenantSecret = "tenantbtenantbtenantbtenantb0000";
const std::string kTenantListener =
    "  - {transport: udp, address: 198.51.100.2, port: 3478, realm: tenant-b.test}\n";
const SocketAddress kTenantPeer = *SocketAddress::parse("10.2.0.5:5000");

std::string tenantAuth(const std::string& keyring) {
  return "  realms:\n    tenant-b.test: " + keyring +
         "\n"
         "peers:\n  realms:\n    tenant-b.test: {allowed: [10.2.0.5]}\n";
}
const std::string kOwnKeyring =
    std::string("{secrets: [{id: b1, value: \"") + kTenantSecret +
    "\"}], users: [{name: ann, key: " + hexEncode(longTermKeyMd5("ann", "tenant-b.test", "ann-password")) +
    "}]}";

/// A client of the tenant's listener holding `name`/`password`.
PipelineClient onTenant(Pipeline& p, const std::string& name, const std::string& password,
                        const std::string& from = "203.0.113.7:40000") {
  PipelineClient c(
      p, FiveTuple{*SocketAddress::parse(from), *SocketAddress::parse("198.51.100.2:3478"), Transport::Udp});
  c.setCredentials(name, password);
  return c;
}

std::pair<std::string, std::string> tenantCredential(const Pipeline& p, const std::string& user) {
  const std::string name = std::to_string(p.clock.unixSeconds() + 3600) + ":" + user;
  return {name, policy::restPassword(kTenantSecret, name)};
}
}  // namespace

TEST_CASE("auth_gate: a credential of the top-level realm gets 401 on a tenant's listener") {
  Pipeline p(tenantAuth(kOwnKeyring), 1, kTenantListener);
  auto [name, pass] = p.credential("alice");
  auto c = onTenant(p, name, pass);
  auto r = c.allocate();
  REQUIRE(r);
  CHECK(r->code == 401);
  CHECK(r->msg().realm() == std::string_view("tenant-b.test"));
  // ...and its CreatePermission to the tenant's private peer never gets that far.
  CHECK(c.createPermission(kTenantPeer)->code == 401);
  // The same credential still works where it was minted.
  auto home = PipelineClient::authed(p, "alice");
  CHECK(home.allocate()->code == 0);
}

TEST_CASE("auth_gate: a tenant's credential works on its listener, reaches its peer, and nowhere else") {
  Pipeline p(tenantAuth(kOwnKeyring), 1, kTenantListener);
  auto [name, pass] = tenantCredential(p, "bea");
  auto b = onTenant(p, name, pass);
  REQUIRE(b.allocate()->code == 0);
  CHECK(b.createPermission(kTenantPeer)->code == 0);
  // On the top-level realm's listener the tenant's credential is refused...
  PipelineClient away(p, p.tuple("203.0.113.8:40000"));
  away.setCredentials(name, pass);
  CHECK(away.allocate()->code == 401);
  // ...and a top-level client cannot reach the tenant's peer.
  auto a = PipelineClient::authed(p, "alice", "203.0.113.9:40000");
  REQUIRE(a.allocate()->code == 0);
  CHECK(a.createPermission(kTenantPeer)->code == 403);
}

TEST_CASE("auth_gate: static users belong to their realm") {
  Pipeline p(tenantAuth(kOwnKeyring), 1, kTenantListener);
  auto ann = onTenant(p, "ann", "ann-password");
  CHECK(ann.allocate()->code == 0);
  PipelineClient away(p, p.tuple("203.0.113.8:40000"));
  away.setCredentials("ann", "ann-password");
  CHECK(away.allocate()->code == 401);  // not a user of pipeline.test
}

TEST_CASE("auth_gate: use_global_keyring shares the top-level keyring with a realm, on reload too") {
  Pipeline p(tenantAuth("{use_global_keyring: true}"), 1, kTenantListener);
  auto [name, pass] = p.credential("alice");
  auto c = onTenant(p, name, pass);
  REQUIRE(c.allocate()->code == 0);
  CHECK(c.createPermission(kTenantPeer)->code == 0);
  // A reload that gives the tenant its own keyring ends that at once.
  p.reload(tenantAuth(kOwnKeyring));
  CHECK(c.refresh(600)->code == 401);
  auto [bName, bPass] = tenantCredential(p, "bea");
  auto b = onTenant(p, bName, bPass, "203.0.113.7:40001");
  CHECK(b.allocate()->code == 0);
}
