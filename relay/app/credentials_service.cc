#include "relay/app/credentials_service.h"

#include "relay/app/http_options.h"
#include "relay/app/server_app.h"
#include "relay/app/setup.h"
#include "relay/base/files.h"

namespace tw::app {

Result<std::unique_ptr<CredentialsService>, std::string> CredentialsService::start(
    const policy::CredentialsConfig& config, http::HttpOptions options, const policy::PolicyHolder& policy,
    const Clock& clock, metrics::EventLog* events, prometheus::Registry* registry, uint64_t salt) {
  options.maxBody = 1024;                // the body is empty; a little slack for clients that send "{}"
  options.connectionMemory = 16 * 1024;  // headers beyond it get 431: the token is bounded anyway
  options.https = !config.cert.empty() || !config.key.empty();
  if (options.https) {
    auto cert = readRegularFile(config.cert, /*privateOnly=*/false);
    if (!cert) return err("credentials: cannot read " + config.cert + ": " + cert.error());
    auto key = readRegularFile(config.key, /*privateOnly=*/false);
    if (!key) return err("credentials: cannot read " + config.key + ": " + key.error());
    options.certPem = std::move(cert.value());
    options.keyPem = std::move(key.value());
  }
  auto s = std::make_unique<CredentialsService>();
  s->https_ = options.https;
  s->api_ = std::make_unique<http::CredentialsApi>(policy, clock, events, registry, salt);
  auto* api = s->api_.get();
  auto http = http::HttpServer::start(
      *config.listen, [api](const http::HttpRequest& r) { return api->handle(r); }, options);
  if (!http) return err("credentials: " + http.error());
  s->http_ = std::move(http.value());
  return s;
}

std::string CredentialsService::url() const {
  return std::string(https_ ? "https://" : "http://") + address().toString() +
         std::string(http::CredentialsApi::kPath);
}

bool ServerApp::startCredentials() {
  if (!config_.credentials.listen) return true;
  auto s = CredentialsService::start(config_.credentials, httpOptions(config_.http, log_), *policy_, clock_,
                                     &obs_->eventLog(), &obs_->folder().registry(), rng_.u64());
  if (!s) {
    log_.error(s.error());
    return false;
  }
  credentials_ = std::move(s.value());
  credentials_->setIceUris(clientUris(config_, config_.credentials.realm));
  log_.info("credentials: serving " + credentials_->url() + " (POST; issuer " + config_.credentials.issuer +
            ", " + std::to_string(config_.credentials.jwks ? config_.credentials.jwks->size() : 0) +
            " JWKS keys)");
  return true;
}

void ServerApp::reloadCredentials(const policy::Config& next) {
  const auto& now = config_.credentials;
  if (next.credentials.listen != now.listen || next.credentials.cert != now.cert ||
      next.credentials.key != now.key)
    log_.warn("reload: credentials listen/cert/key changes need a restart; serving as before");
  config_.credentials = next.credentials;  // keys, issuer, audiences, ttl, origins, rates: now
  if (credentials_) credentials_->setIceUris(clientUris(next, next.credentials.realm));
}

}  // namespace tw::app
