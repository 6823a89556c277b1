// libFuzzer target: the route functions of the HTTP control plane over
// HttpRequest, no sockets: AdminApi::handle (admin API) and
// CredentialsApi::handle (POST /v1/credentials). Everything in a request is
// the client's: method, path, query, Authorization, Origin, body, address.
//
// Input: up to 16 requests, each
//   u8   flags: bit 0 = credentials (else admin), bit 1 = body too large,
//        bits 2-3 = the Authorization: 0 raw text from the input, 1 the right
//        bearer (the admin token, or a JWT signed by the JWKS's key for a sub
//        from the input), 2 "Bearer " + text, 3 none;
//   u8   seconds the clock moves before the request;
//   u32  the client's IPv4 address;
//   16-bit-length chunks: method, path, Origin, body, the text for the
//        Authorization or the sub, then u8 query pairs (at most 4) of key and
//        value chunks.
//
// Invariants:
//  - nothing throws and no input crashes or trips a sanitizer;
//  - every status is 200-599; every answer of 400 or more is a JSON object
//    with an "error" member; no header value holds CR or LF;
//  - admin: no action runs without the right token, and the right token is
//    never answered 401 or 429 (issue 22: no lockout), whatever came before;
//  - credentials: 200 only for a token signed by the configured key, and its
//    body is {"iceServers":[...],"ttl":N} with 0 < N <= the configured ttl.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/jwt_keys.h"
#include "relay/http/admin_api.h"
#include "relay/http/credentials_api.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/jwt_signer.h"

namespace {

using namespace tw;
using namespace tw::http;

constexpr const char* kToken = "fuzz-admin-token-0123456789";
constexpr const char* kIss = "https://app.fuzz.test";
constexpr int64_t kStart = 1'800'000'000;

struct CountingActions final : AdminActions {
  int calls = 0;
  ActionResult listSessions() override { return act(); }
  ActionResult endSession(uint64_t) override { return act(); }
  ActionResult endUserSessions(const std::string&) override { return act(); }
  ActionResult reload() override { return act(); }
  ActionResult drain() override { return act(); }
  ActionResult mintCredential(const std::string&, int64_t) override { return act(); }
  int64_t maxTtl() const override { return 3600; }
  ActionResult listBans() override { return act(); }
  ActionResult liftBan(const IpAddress&) override { return act(); }
  ActionResult rotate() override { return act(); }
  ActionResult fleet(const FleetRequest&) override { return act(); }
  ActionResult act() {
    ++calls;
    return {200, "{}"};
  }
};

/// The config, key and policy every input shares; the APIs are made anew per
/// input so that no input depends on another.
struct Fixture {
  Fixture() : key(testing::TestKey::generate(policy::JwtAlg::EdDSA)) {
    auto cfg = policy::parseConfig(
        "realm: fuzz.test\nauth:\n  secrets:\n    - {id: k1, value: \"0123456789abcdef0123456789abcdef\"}\n"
        "  max_ttl: 1h\n  clock_skew: 30s\n  blocked_users: [mallory]\n"
        "credentials:\n  listen: 127.0.0.1:8443\n  jwks_file: jwks.json\n  issuer: " +
            std::string(kIss) +
            "\n  audience: turn\n  ttl: 10m\n  allowed_origins: [https://app.fuzz.test]\n",
        "/etc/tw/turnwarden.yaml");
    if (!cfg.ok()) std::abort();
    auto set = policy::Jwks::parse(testing::jwksOf({key.jwk("k1")}));
    if (!set.ok()) std::abort();
    cfg->credentials.jwks = std::make_shared<const policy::Jwks>(std::move(set.value()));
    holder = std::make_unique<policy::PolicyHolder>(policy::buildSnapshot(cfg.value(), 1, {}));
  }
  testing::TestKey key;
  std::unique_ptr<policy::PolicyHolder> holder;
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

std::string str(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }

void checkAnswer(const HttpResponse& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  for (const auto& [name, value] : r.headers)
    FUZZ_CHECK(name.find_first_of("\r\n") == std::string::npos &&
               value.find_first_of("\r\n") == std::string::npos);
  if (r.status < 400) return;
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  FUZZ_CHECK(j.is_object() && j.contains("error"));
}

struct Request {
  HttpRequest req;
  bool credentials = false;
  bool rightBearer = false;
};

Request readRequest(tw::fuzz::FuzzInput& in, ManualClock& clock) {
  Request out;
  const uint8_t flags = in.u8();
  clock.advance(std::chrono::seconds(in.u8()));
  const uint32_t ip = in.u32();
  out.credentials = flags & 1;
  HttpRequest& r = out.req;
  r.bodyTooLarge = flags & 2;
  r.peer = IpAddress::v4(uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip));
  r.method = str(in.chunk(16));
  r.path = str(in.chunk(512));
  r.origin = str(in.chunk(256));
  r.body = str(in.chunk(2048));
  const std::string text = str(in.chunk(9000));
  switch ((flags >> 2) & 3) {
    case 0:
      r.authorization = text;
      break;
    case 1:
      out.rightBearer = true;
      r.authorization =
          "Bearer " +
          (out.credentials
               ? fixture().key.token("k1", testing::claims(kIss, "turn", text, clock.unixSeconds() + 600))
               : std::string(kToken));
      break;
    case 2:
      r.authorization = "Bearer " + text;
      break;
    default:
      break;
  }
  // Raw text may spell the admin token too: what counts is what was sent.
  if (!out.credentials) out.rightBearer = r.authorization == "Bearer " + std::string(kToken);
  for (int n = in.u8() % 5; n > 0; --n) {
    std::string k = str(in.chunk(64));
    r.query[k] = str(in.chunk(300));
  }
  return out;
}

void checkCredentials(const Request& q, const HttpResponse& r) {
  if (r.status != 200) return;
  FUZZ_CHECK(q.rightBearer);
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  FUZZ_CHECK(j.is_object() && j.contains("iceServers") && j["iceServers"].is_array());
  FUZZ_CHECK(j.contains("ttl") && j["ttl"].is_number_integer());
  FUZZ_CHECK(j["ttl"].get<int64_t>() > 0 && j["ttl"].get<int64_t>() <= 600);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tw::fuzz::FuzzInput in(data, size);
  ManualClock clock(kStart);
  CountingActions actions;
  AdminApi admin(actions, kToken, clock, nullptr);
  CredentialsApi credentials(*fixture().holder, clock, nullptr, nullptr, 7);
  credentials.setIceUris({"turn:192.0.2.1:3478?transport=udp"});
  for (int i = 0; i < 16 && !in.empty(); ++i) {
    const Request q = readRequest(in, clock);
    if (q.credentials) {
      const HttpResponse r = credentials.handle(q.req);
      checkAnswer(r);
      checkCredentials(q, r);
      continue;
    }
    const int before = actions.calls;
    const HttpResponse r = admin.handle(q.req);
    checkAnswer(r);
    if (!q.rightBearer)
      FUZZ_CHECK(actions.calls == before && (r.status == 401 || r.status == 429));
    else
      FUZZ_CHECK(r.status != 401 && r.status != 429);
  }
  return 0;
}
