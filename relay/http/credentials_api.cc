#include "relay/http/credentials_api.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "policy/config.h"
#include "policy/credentials.h"
#include "policy/jwt.h"
#include "relay/base/crypto.h"
#include "relay/http/client_address.h"

namespace tw::http {

using metrics::EventLog;
using metrics::suppressedNote;

namespace {

/// Rate tables: 1024 sets x 4 ways each, fixed memory whatever the traffic.
constexpr size_t kRateSets = 1024;

HttpResponse jsonAnswer(int status, std::string body,
                        std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r{status, "application/json", std::move(body) + "\n"};
  r.headers = std::move(headers);
  r.headers.emplace_back("Vary", "Origin");
  return r;
}

/// The per-user table is keyed by IpAddress; a 128-bit digest of the TURN
/// user fills that key (collisions are as unlikely as in SHA-256 itself).
IpAddress userKey(const std::string& user) {
  const auto d = sha256(asBytes(user));
  std::array<uint8_t, 16> key;
  std::copy_n(d.begin(), key.size(), key.begin());
  return IpAddress::v6(key);
}

bool allowedOrigin(const std::string& origin, const std::vector<std::string>& allowed) {
  return !origin.empty() && std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

/// The address the per-IP bucket and the event log name: the TCP peer, or
/// the client a trusted proxy forwarded (client_address.h).
IpAddress client(const HttpRequest& req, const policy::CredentialsConfig* c) {
  const IpAddress peer = req.peer.value_or(IpAddress::v4(0, 0, 0, 0));
  if (!c || !req.peer) return peer;
  return clientAddress(peer, req.forwarded, req.xForwardedFor, c->trustedProxies);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> corsHeaders(const std::string& origin,
                                                             const std::vector<std::string>& allowed) {
  if (!allowedOrigin(origin, allowed)) return {};
  return {{"Access-Control-Allow-Origin", origin}};
}

std::string_view bearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

const std::vector<std::string_view>& CredentialsApi::results() {
  static const std::vector<std::string_view> kResults = [] {
    std::vector<std::string_view> r{
        "ok",      "missing_token", "origin_denied", "rate_limited_ip", "rate_limited_user",
        "blocked", "unavailable"};
    for (int i = 0; i <= int(policy::kLastJwtRejection); ++i)
      r.push_back(policy::toString(policy::JwtRejection(i)));
    return r;
  }();
  return kResults;
}

CredentialsApi::CredentialsApi(const policy::PolicyHolder& policy, const Clock& clock, EventLog* events,
                               prometheus::Registry* registry, uint64_t salt)
    : policy_(policy),
      clock_(clock),
      events_(events),
      uris_(std::make_shared<const std::vector<std::string>>()),
      perIp_(kRateSets, salt),
      perUser_(kRateSets, salt ^ 0x9e3779b97f4a7c15ULL),
      sampler_(std::chrono::seconds(60), 10000) {
  if (!registry) return;
  family_ = &prometheus::BuildCounter()
                 .Name("turnwarden_credential_requests_total")
                 .Help("POST /v1/credentials by result (ok, or why it was refused).")
                 .Register(*registry);
  for (std::string_view r : results()) family_->Add({{"result", std::string(r)}});
}

CredentialsApi::~CredentialsApi() = default;

void CredentialsApi::setIceUris(std::vector<std::string> uris) {
  auto next = std::make_shared<const std::vector<std::string>>(std::move(uris));
  std::lock_guard lock(mu_);
  uris_ = std::move(next);
}

void CredentialsApi::count(std::string_view result) {
  if (family_) family_->Add({{"result", std::string(result)}}).Increment();
}

bool CredentialsApi::allowIp(const IpAddress& ip, const policy::RateConfig& rate) {
  const Instant now = clock_.now();
  const IpAddress client = clientKey(ip, policy_.load()->ipv6ClientPrefix);  // an IPv6 /64 is one client
  std::lock_guard lock(mu_);
  return perIp_.touch(client, now).value.take(1, rate.rate, rate.burst, now);
}

bool CredentialsApi::allowUser(const std::string& user, const policy::RateConfig& rate) {
  const Instant now = clock_.now();
  std::lock_guard lock(mu_);
  return perUser_.touch(userKey(user), now).value.take(1, rate.rate, rate.burst, now);
}

HttpResponse CredentialsApi::refuse(const HttpRequest& req, int status, std::string_view error,
                                    std::string_view result, std::string_view user) {
  count(result);
  const IpAddress who = client(req, policy_.load()->credentials.get());
  std::optional<uint64_t> admitted;
  {
    std::lock_guard lock(mu_);
    admitted = sampler_.admit(who, clock_.now());
  }
  if (events_ && admitted)
    events_->push({"credential_refused", "warning", std::string(user), who.toString(), "",
                   std::string(result),
                   "POST /v1/credentials -> " + std::to_string(status) + suppressedNote(*admitted)});
  auto snap = policy_.load();
  auto headers = corsHeaders(
      req.origin, snap->credentials ? snap->credentials->allowedOrigins : std::vector<std::string>{});
  if (status == 401) headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return jsonAnswer(status, "{\"error\":\"" + std::string(error) + "\"}", std::move(headers));
}

HttpResponse CredentialsApi::handle(const HttpRequest& req) {
  auto snap = policy_.load();
  const policy::CredentialsConfig* c = snap->credentials.get();
  if (!c || !c->jwks) return jsonAnswer(503, "{\"error\":\"unavailable\"}", {});
  if (req.path != kPath)
    return jsonAnswer(404, "{\"error\":\"not_found\"}", corsHeaders(req.origin, c->allowedOrigins));
  const IpAddress who = client(req, c);
  if (!allowIp(who, c->perIp)) return refuse(req, 429, "rate_limited", "rate_limited_ip");
  if (req.method == "OPTIONS") {  // CORS preflight: never counted, never verified
    auto headers = corsHeaders(req.origin, c->allowedOrigins);
    if (!headers.empty()) {
      headers.emplace_back("Access-Control-Allow-Methods", "POST");
      headers.emplace_back("Access-Control-Allow-Headers", "Authorization");
      headers.emplace_back("Access-Control-Max-Age", "600");
    }
    HttpResponse r = jsonAnswer(204, "", std::move(headers));
    r.body.clear();
    return r;
  }
  if (req.method != "POST") {
    HttpResponse r =
        jsonAnswer(405, "{\"error\":\"method_not_allowed\"}", corsHeaders(req.origin, c->allowedOrigins));
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    return r;
  }
  if (!req.origin.empty() && !allowedOrigin(req.origin, c->allowedOrigins))
    return refuse(req, 403, "origin_not_allowed", "origin_denied");
  return post(req, *snap, *c);
}

HttpResponse CredentialsApi::post(const HttpRequest& req, const policy::PolicySnapshot& snap,
                                  const policy::CredentialsConfig& c) {
  const std::string_view token = bearerToken(req.authorization);
  if (token.empty()) return refuse(req, 401, "invalid_token", "missing_token");
  const int64_t now = clock_.unixSeconds();
  const policy::JwtExpectations expect{c.issuer, c.audiences, now, snap.clockSkewSeconds, c.typ};
  auto claims = policy::verifyJwt(token, *c.jwks, expect);
  if (!claims) return refuse(req, 401, "invalid_token", policy::toString(claims.error()));
  const std::string user = policy::turnUserFor(claims->sub);
  if (!allowUser(user, c.perUser)) return refuse(req, 429, "rate_limited", "rate_limited_user", user);
  if (snap.isBlocked(user)) return refuse(req, 403, "forbidden", "blocked", user);
  const int64_t ttl = std::min({c.ttlSeconds, claims->exp - now, snap.maxTtlSeconds});
  if (ttl <= 0) return refuse(req, 401, "invalid_token", "expired", user);
  HttpResponse r = issue(snap, user, ttl);
  if (r.status != 200) return refuse(req, 503, "unavailable", "unavailable", user);
  for (auto& h : corsHeaders(req.origin, c.allowedOrigins)) r.headers.push_back(std::move(h));
  count("ok");
  return r;
}

HttpResponse CredentialsApi::issue(const policy::PolicySnapshot& snap, const std::string& user, int64_t ttl) {
  // credentials.realm binds the issuer to one realm: its keyring mints, so
  // the credential is valid on that realm's listeners only.
  const policy::Keyring* keyring = snap.keyringFor(snap.credentials->realm);
  auto cred = keyring ? policy::mintCredential(*keyring, user, ttl, clock_.unixSeconds()) : std::nullopt;
  if (!cred) return jsonAnswer(503, "{\"error\":\"unavailable\"}", {});
  std::shared_ptr<const std::vector<std::string>> uris;
  {
    std::lock_guard lock(mu_);
    uris = uris_;
  }
  // ordered_json: the members in the order RTCIceServer documents them.
  nlohmann::ordered_json server{
      {"urls", *uris}, {"username", cred->username}, {"credential", cred->password}};
  nlohmann::ordered_json body{{"iceServers", nlohmann::ordered_json::array({server})}, {"ttl", cred->ttl}};
  // The user is sanitised ASCII; replace keeps dump() from throwing regardless.
  return jsonAnswer(200, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), {});
}

}  // namespace tw::http
