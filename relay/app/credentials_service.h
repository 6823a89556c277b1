#pragma once
// The credentials endpoint of the running server: http::CredentialsApi
// served on credentials.listen (HTTPS with credentials.cert/key, plain HTTP
// otherwise). The API reads the policy snapshot (keyring, JWKS, limits) at
// each request, so neither a rotation nor a reload needs to tell it anything
// but the ICE URLs. The listener, cert and key need a restart to change.
#include <memory>
#include <string>
#include <vector>

#include "metrics/event_log.h"
#include "policy/config.h"
#include "policy/snapshot.h"
#include "relay/base/clock.h"
#include "relay/http/credentials_api.h"
#include "relay/http/http_server.h"

namespace tw::app {

class CredentialsService {
 public:
  /// Reads the PEM files and binds credentials.listen with `options` (the
  /// http: limits); the error says which failed. With cert/key set it serves
  /// HTTPS or nothing: files that do not parse or match are an error.
  static Result<std::unique_ptr<CredentialsService>, std::string> start(
      const policy::CredentialsConfig& config, http::HttpOptions options, const policy::PolicyHolder& policy,
      const Clock& clock, metrics::EventLog* events, prometheus::Registry* registry, uint64_t salt);
  void setIceUris(std::vector<std::string> uris) { api_->setIceUris(std::move(uris)); }
  SocketAddress address() const { return http_->address(); }
  /// "https://ADDR/v1/credentials" or "http://...".
  std::string url() const;

 private:
  std::unique_ptr<http::CredentialsApi> api_;
  std::unique_ptr<http::HttpServer> http_;  // last: stops first
  bool https_ = false;
};

}  // namespace tw::app
