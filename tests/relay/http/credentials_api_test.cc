// POST /v1/credentials without sockets: every refusal is a 401/403/429 with
// a JSON error that says nothing about why; CORS; rate limits; the credential
// minted verifies with the keyring; the metric counts each result.
#include "relay/http/credentials_api.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/config.h"
#include "policy/credentials.h"
#include "policy/jwt.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"

namespace tw::http {
namespace {

using policy::JwtAlg;
using testing::TestKey;

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kIss = "https://app.example.org";
constexpr const char* kOrigin = "https://app.example.org";
const std::string kSecret = "0123456789abcdef0123456789abcdef";

policy::Config config(const std::string& extra = "") {
  auto c = policy::parseConfig(
      "realm: example.org\nauth:\n  secrets:\n    - {id: k1, value: \"" + kSecret +
          "\"}\n  max_ttl: 1h\n  clock_skew: 30s\n  blocked_users: [mallory]\n"
          "credentials:\n  listen: 127.0.0.1:8443\n  jwks_file: jwks.json\n  issuer: " +
          kIss + "\n  audience: turn\n  ttl: 10m\n  allowed_origins: [" + kOrigin + "]\n" + extra,
      "/etc/tw/turnwarden.yaml");
  REQUIRE(c.ok());
  return std::move(c.value());
}

struct Fixture {
  explicit Fixture(const std::string& extra = "", JwtAlg alg = JwtAlg::ES256) : key(TestKey::generate(alg)) {
    cfg = config(extra);
    auto set = policy::Jwks::parse(testing::jwksOf({key.jwk("k1")}));
    REQUIRE(set.ok());
    cfg.credentials.jwks = std::make_shared<const policy::Jwks>(std::move(set.value()));
    holder = std::make_unique<policy::PolicyHolder>(policy::buildSnapshot(cfg, 1, {}));
    api = std::make_unique<CredentialsApi>(*holder, clock, nullptr, &registry, 42);
    api->setIceUris({"turn:192.0.2.1:3478?transport=udp"});
  }
  HttpResponse post(const std::string& auth, const std::string& origin = kOrigin,
                    const char* ip = "198.51.100.7", const std::string& xForwardedFor = "") {
    HttpRequest r;
    r.method = "POST";
    r.path = "/v1/credentials";
    r.authorization = auth;
    r.origin = origin;
    r.peer = *IpAddress::parse(ip);
    r.xForwardedFor = xForwardedFor;
    return api->handle(r);
  }
  HttpResponse bearer(const std::string& payload) { return post("Bearer " + key.token("k1", payload)); }
  std::string claims(const std::string& sub = "alice", int64_t exp = kNow + 3600) const {
    return testing::claims(kIss, "turn", sub, exp);
  }
  double counted(const std::string& result) const {
    const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
    const std::string series = "turnwarden_credential_requests_total{result=\"" + result + "\"} ";
    const size_t at = text.find(series);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size()));
  }

  ManualClock clock{kNow - ManualClock(0).unixSeconds()};  // unixSeconds() == kNow
  TestKey key;
  policy::Config cfg;
  prometheus::Registry registry;
  std::unique_ptr<policy::PolicyHolder> holder;
  std::unique_ptr<CredentialsApi> api;
};

std::string header(const HttpResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

/// The answer every JWT problem gets: nothing that tells them apart.
void requireOpaque401(const HttpResponse& r) {
  CHECK(r.status == 401);
  CHECK(r.body == "{\"error\":\"invalid_token\"}\n");
  CHECK(header(r, "WWW-Authenticate") == "Bearer error=\"invalid_token\"");
  CHECK(header(r, "Access-Control-Allow-Origin") == kOrigin);  // the page may read the error
}

}  // namespace

TEST_CASE("credentials api: a valid token gets iceServers with a credential from the keyring") {
  for (JwtAlg alg : {JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA}) {
    INFO(policy::toString(alg));
    Fixture f("", alg);
    const HttpResponse r = f.bearer(f.claims());
    REQUIRE(r.status == 200);
    CHECK(header(r, "Access-Control-Allow-Origin") == kOrigin);
    CHECK(header(r, "Vary") == "Origin");
    const auto body = nlohmann::json::parse(r.body);
    CHECK(body["ttl"] == 600);
    REQUIRE(body["iceServers"].size() == 1);
    const auto& s = body["iceServers"][0];
    CHECK(s["urls"] == nlohmann::json::array({"turn:192.0.2.1:3478?transport=udp"}));
    const std::string username = s["username"];
    CHECK(username == std::to_string(kNow + 600) + ":alice");
    CHECK(s["credential"] == policy::restPassword(kSecret, username));
    CHECK(f.counted("ok") == 1);
  }
}

TEST_CASE("credentials api: bound to a realm (credentials.realm), it mints with that realm's keyring") {
  Fixture f("", JwtAlg::EdDSA);
  const std::string tenantSecret = "tenantbtenantbtenantbtenantb0000";
  policy::ListenerConfig tenant;
  tenant.port = 3479;
  tenant.realm = "b.example";
  f.cfg.listeners.push_back(tenant);
  policy::RealmAuthConfig keyring;
  keyring.realm = "b.example";
  keyring.secrets = {policy::Secret{"b1", tenantSecret, std::nullopt}};
  f.cfg.auth.realms.push_back(keyring);
  f.cfg.credentials.realm = "b.example";
  f.holder->store(policy::buildSnapshot(f.cfg, 2, {}));
  const auto s = nlohmann::json::parse(f.bearer(f.claims()).body)["iceServers"][0];
  const std::string username = s["username"];
  CHECK(s["credential"] == policy::restPassword(tenantSecret, username));
  CHECK(s["credential"] != policy::restPassword(kSecret, username));
  // A realm no listener serves (a hand-made snapshot; check-config refuses it) mints nothing.
  f.cfg.credentials.realm = "c.example";
  f.holder->store(policy::buildSnapshot(f.cfg, 3, {}));
  CHECK(f.bearer(f.claims("bob")).status == 503);
}

TEST_CASE("credentials api: ttl is min(credentials.ttl, exp - now, auth.max_ttl), sub is sanitised") {
  Fixture f("", JwtAlg::EdDSA);
  auto ttl = [&](const std::string& payload) { return nlohmann::json::parse(f.bearer(payload).body)["ttl"]; };
  CHECK(ttl(f.claims("a", kNow + 90)) == 90);
  Fixture longTtl("  requests_per_user: {rate: 100}\n", JwtAlg::EdDSA);
  longTtl.cfg.credentials.ttlSeconds = 7200;
  longTtl.holder->store(policy::buildSnapshot(longTtl.cfg, 2, {}));
  CHECK(nlohmann::json::parse(longTtl.bearer(longTtl.claims("b")).body)["ttl"] == 3600);  // max_ttl 1h
  const auto body = nlohmann::json::parse(f.bearer(f.claims("google-oauth2|1234:5")).body);
  const std::string user = body["iceServers"][0]["username"];
  CHECK(user == std::to_string(kNow + 600) + ":" + policy::turnUserFor("google-oauth2|1234:5"));
  CHECK(user.find(':') == user.rfind(':'));  // one colon: expiry:user
}

TEST_CASE("credentials api: every rejection is an opaque 401, counted by reason") {
  Fixture f;
  const TestKey other = TestKey::generate(JwtAlg::ES256);
  const std::string good = f.key.token("k1", f.claims());
  struct Case {
    std::string auth, result;
  };
  std::string oversizeHeader = R"({"alg":"ES256","kid":"k1","pad":")" + std::string(1200, 'x') + "\"}";
  const std::vector<Case> cases{
      {"Bearer " + other.token("k1", f.claims()), "bad_signature"},
      {"Bearer " + f.key.token("k1", f.claims("alice", kNow - 60)), "expired"},
      {"Bearer " + f.key.token("k1", testing::claims(kIss, "turn", "alice", kNow + 600, kNow + 600)),
       "not_yet_valid"},
      {"Bearer " + f.key.token("k1", testing::claims("https://evil.example", "turn", "alice", kNow + 60)),
       "wrong_issuer"},
      {"Bearer " + f.key.token("k1", testing::claims(kIss, "api", "alice", kNow + 60)), "wrong_audience"},
      {"Bearer " + f.key.token("k1", testing::claims(kIss, "turn", "", kNow + 60)), "missing_subject"},
      {"Bearer " + testing::b64url(R"({"alg":"none"})") + "." + testing::b64url(f.claims()) + ".",
       "bad_algorithm"},
      {"Bearer " + testing::hs256Token(R"({"alg":"HS256","kid":"k1"})", f.claims(), f.key.publicPem()),
       "bad_algorithm"},
      {"Bearer " + f.key.token("k2", f.claims()), "unknown_key"},
      {"Bearer " + good.substr(0, good.size() / 2), "malformed"},
      {"Bearer " + good.substr(0, 4) + "!" + good.substr(5), "malformed"},
      {"Bearer " + f.key.sign(oversizeHeader, f.claims()), "oversize"},
      {"Bearer " + std::string(policy::kMaxJwtBytes + 1, 'a'), "oversize"},
      {"", "missing_token"},
      {"Basic dXNlcjpwYXNz", "missing_token"},
  };
  for (const Case& c : cases) {
    INFO(c.result);
    const double before = f.counted(c.result);
    requireOpaque401(f.post(c.auth));
    CHECK(f.counted(c.result) == before + 1);
  }
  CHECK(f.counted("ok") == 0);
  CHECK(f.post("bearer " + good).status == 200);  // the scheme is case-insensitive
}

TEST_CASE("credentials api: CORS preflight and origins") {
  Fixture f;
  HttpRequest pre;
  pre.method = "OPTIONS";
  pre.path = "/v1/credentials";
  pre.origin = kOrigin;
  pre.peer = *IpAddress::parse("198.51.100.7");
  HttpResponse ok = f.api->handle(pre);
  CHECK(ok.status == 204);
  CHECK(ok.body.empty());
  CHECK(header(ok, "Access-Control-Allow-Origin") == kOrigin);
  CHECK(header(ok, "Access-Control-Allow-Methods") == "POST");
  CHECK(header(ok, "Access-Control-Allow-Headers") == "Authorization");
  pre.origin = "https://evil.example";
  HttpResponse no = f.api->handle(pre);
  CHECK(header(no, "Access-Control-Allow-Origin").empty());
  CHECK(header(no, "Access-Control-Allow-Methods").empty());
  // A POST from another origin is refused outright, with no CORS header.
  HttpResponse evil = f.post("Bearer " + f.key.token("k1", f.claims()), "https://evil.example");
  CHECK(evil.status == 403);
  CHECK(header(evil, "Access-Control-Allow-Origin").empty());
  CHECK(f.counted("origin_denied") == 1);
  // No Origin at all (a server-side client) is fine.
  CHECK(f.post("Bearer " + f.key.token("k1", f.claims()), "").status == 200);
  HttpRequest get = pre;
  get.method = "GET";
  get.origin = kOrigin;
  CHECK(f.api->handle(get).status == 405);
  get.path = "/v1/other";
  CHECK(f.api->handle(get).status == 404);
}

TEST_CASE("credentials api: rate limits per sub (tight) and per IP (generous), blocked users") {
  Fixture f("  requests_per_ip: {rate: 1, burst: 30}\n  requests_per_user: {rate: 1, burst: 3}\n");
  for (int i = 0; i < 3; ++i) CHECK(f.bearer(f.claims("alice")).status == 200);
  const HttpResponse limited = f.bearer(f.claims("alice"));
  CHECK(limited.status == 429);
  CHECK(limited.body == "{\"error\":\"rate_limited\"}\n");
  CHECK(f.counted("rate_limited_user") == 1);
  // Other users behind the same address (CGNAT) are not affected by alice.
  for (int i = 0; i < 20; ++i) CHECK(f.bearer(f.claims("user" + std::to_string(i))).status == 200);
  f.clock.advance(std::chrono::seconds(1));
  CHECK(f.bearer(f.claims("alice")).status == 200);  // refilled
  // 25 of the address's 30 + 1 (refilled) tokens are spent: 6 more pass, then 429.
  int refused = 0;
  for (int i = 0; i < 10; ++i) refused += f.bearer(f.claims("x" + std::to_string(i))).status == 429;
  CHECK(refused == 4);
  CHECK(f.counted("rate_limited_ip") == 4);
  // Another address is not affected.
  CHECK(f.post("Bearer " + f.key.token("k1", f.claims("bob")), kOrigin, "203.0.113.9").status == 200);
  const HttpResponse blocked =
      f.post("Bearer " + f.key.token("k1", f.claims("mallory")), kOrigin, "203.0.113.9");
  CHECK(blocked.status == 403);
  CHECK(f.counted("blocked") == 1);
}

TEST_CASE("credentials api: a rotated keyring and a reloaded JWKS apply to the next request") {
  Fixture f;
  const std::string before =
      nlohmann::json::parse(f.bearer(f.claims("a")).body)["iceServers"][0]["credential"];
  f.cfg.auth.secrets.insert(f.cfg.auth.secrets.begin(),
                            policy::Secret{"k2", "fedcba9876543210fedcba9876543210", {}});
  const TestKey next = TestKey::generate(JwtAlg::EdDSA);
  f.cfg.credentials.jwks = std::make_shared<const policy::Jwks>(
      std::move(policy::Jwks::parse(testing::jwksOf({next.jwk("n1")})).value()));
  f.holder->store(policy::buildSnapshot(f.cfg, 2, {}));
  const auto body = nlohmann::json::parse(f.post("Bearer " + next.token("n1", f.claims("b"))).body);
  const std::string username = body["iceServers"][0]["username"];
  CHECK(body["iceServers"][0]["credential"] ==
        policy::restPassword("fedcba9876543210fedcba9876543210", username));
  CHECK(before != body["iceServers"][0]["credential"]);
  requireOpaque401(f.bearer(f.claims("c")));  // the old app key is gone
}

TEST_CASE("credentials api: served over a real loopback socket with the headers on the wire") {
  Fixture f;
  auto server = HttpServer::start(
      *SocketAddress::parse("127.0.0.1:0"), [&](const HttpRequest& r) { return f.api->handle(r); },
      HttpOptions{});
  REQUIRE(server.ok());
  const std::string token = f.key.token("k1", f.claims());
  auto reply = testing::httpRequest((*server)->address(), "POST", "/v1/credentials",
                                    "Authorization: Bearer " + token + "\r\nOrigin: " + kOrigin + "\r\n");
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->headers.find("Access-Control-Allow-Origin: https://app.example.org") != std::string::npos);
  CHECK(nlohmann::json::parse(reply->body)["ttl"] == 600);
  auto bad = testing::httpRequest((*server)->address(), "POST", "/v1/credentials",
                                  "Authorization: Bearer x.y.z\r\n");
  REQUIRE(bad);
  CHECK(bad->status == 401);
  CHECK(bad->body == "{\"error\":\"invalid_token\"}\n");
}

TEST_CASE("credentials api: behind a trusted proxy the per-IP bucket is the forwarded client's") {
  Fixture f("trusted_proxies: [10.0.0.5]\n");
  auto via = [&](const std::string& auth, const char* xff, const char* peer = "10.0.0.5") {
    return f.post(auth, kOrigin, peer, xff);
  };
  int limited = 0;
  for (int i = 0; i < 230; ++i) limited += via("Bearer not-a-jwt", "203.0.113.1").status == 429;
  CHECK(limited > 0);  // the one client behind the proxy used up its own bucket
  // Another user behind the same proxy still gets a credential.
  CHECK(via("Bearer " + f.key.token("k1", f.claims("bob")), "203.0.113.2").status == 200);
  // The first one's bucket is its own, whatever it claims to the left of it.
  CHECK(via("Bearer not-a-jwt", "203.0.113.2, 203.0.113.1").status == 429);
  // Not trusted: its X-Forwarded-For is ignored, the peer's bucket applies.
  int direct = 0;
  for (int i = 0; i < 230; ++i)
    direct += via("Bearer not-a-jwt", "203.0.113.3", "198.51.100.9").status == 429;
  CHECK(direct > 0);
  CHECK(via("Bearer " + f.key.token("k1", f.claims("carol")), "203.0.113.3").status == 200);
}

}  // namespace tw::http
