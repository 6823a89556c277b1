#pragma once
// POST /v1/credentials: trades an application's session JWT for TURN REST
// credentials (docs/credentials.md). Served on credentials.listen by
// relay/app/credentials_service; this class is the pure request logic, so
// tests call it without sockets.
//
//   request:  POST /v1/credentials, "Authorization: Bearer <JWT>", no body
//   200:      {"iceServers":[{"urls":[...],"username":"...","credential":"..."}],"ttl":N}
//   401:      {"error":"invalid_token"} for every JWT problem (the reason goes
//             to turnwarden_credential_requests_total{result} and the event
//             log, never to the client)
//   403:      an Origin not on credentials.allowed_origins, or a blocked user
//   429:      over requests_per_ip (checked first, before any crypto) or
//             requests_per_user (checked once the token is verified)
//
// CORS: an allowed Origin gets Access-Control-Allow-Origin on every answer
// and a preflight (OPTIONS) answer; any other origin gets no CORS header, so
// the browser blocks the page from calling at all.
//
// Everything it needs comes from the current PolicySnapshot (keyring, JWKS,
// issuer, audiences, ttl, max_ttl, clock_skew, blocked users) at each
// request, so a rotation or a reload applies to the next request.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/event_log.h"
#include "metrics/security_events.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/base/ip_table.h"
#include "relay/base/token_bucket.h"
#include "relay/http/http_server.h"

namespace prometheus {
class Registry;
template <class T>
class Family;
class Counter;
}  // namespace prometheus

namespace tw::http {

class CredentialsApi {
 public:
  static constexpr std::string_view kPath = "/v1/credentials";

  /// `events` and `registry` may be null. `salt` keys the rate tables'
  /// hashes (random per process).
  CredentialsApi(const policy::PolicyHolder& policy, const Clock& clock, metrics::EventLog* events,
                 prometheus::Registry* registry, uint64_t salt);
  ~CredentialsApi();

  /// The ICE server URLs of the configured listeners (start-up, reload).
  void setIceUris(std::vector<std::string> uris);
  HttpResponse handle(const HttpRequest& req);

  /// Every value of the result label, present from the start.
  static const std::vector<std::string_view>& results();

 private:
  HttpResponse post(const HttpRequest& req, const policy::PolicySnapshot& snap,
                    const policy::CredentialsConfig& c);
  HttpResponse refuse(const HttpRequest& req, int status, std::string_view error, std::string_view result,
                      std::string_view user = {});
  HttpResponse issue(const policy::PolicySnapshot& snap, const std::string& user, int64_t ttl);
  bool allowIp(const IpAddress& ip, const policy::RateConfig& rate);
  bool allowUser(const std::string& user, const policy::RateConfig& rate);
  void count(std::string_view result);

  const policy::PolicyHolder& policy_;
  const Clock& clock_;
  metrics::EventLog* events_;
  prometheus::Family<prometheus::Counter>* family_ = nullptr;
  std::mutex mu_;  // guards everything below
  std::shared_ptr<const std::vector<std::string>> uris_;
  IpTable<TokenBucket> perIp_;
  IpTable<TokenBucket> perUser_;  ///< keyed by a digest of the TURN user
  metrics::SourceSampler sampler_;
};

/// CORS headers for `origin` when it is on `allowed` (exact match), else none.
std::vector<std::pair<std::string, std::string>> corsHeaders(const std::string& origin,
                                                             const std::vector<std::string>& allowed);

/// The token of "Bearer <token>" (scheme case-insensitive), or empty.
std::string_view bearerToken(std::string_view authorization);

}  // namespace tw::http
