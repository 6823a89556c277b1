#include "relay/app/server_app.h"

#include <event2/thread.h>

#include <csignal>

#include "policy/rotation.h"
#include "policy/secrets_file.h"
#include "relay/app/cli.h"
#include "relay/app/listeners.h"
#include "relay/app/setup.h"

namespace tw::app {

ServerApp::ServerApp(policy::Config config, std::string configPath)
    : config_(std::move(config)), configPath_(std::move(configPath)) {
  log_.setLevel(config_.log.level);
}

ServerApp::~ServerApp() {
  // A failed start-up returns before run() stops these: no collector or admin
  // thread may post to the worker once it is gone.
  admin_.reset();
  credentials_.reset();
  if (obs_) obs_->stop();
}

bool ServerApp::ensureSecrets() {
  if (!config_.auth.secrets.empty()) return true;
  if (config_.auth.secretsFile.empty()) {
    log_.error("no secret configured (auth.secrets or auth.secrets_file)");
    return false;
  }
  auto made = policy::generateSecretsFile(config_.auth.secretsFile, rng_, clock_.unixSeconds());
  if (!made) {
    log_.error("cannot create secrets file " + config_.auth.secretsFile + ": " + made.error());
    return false;
  }
  config_.auth.secrets = std::move(made.value());
  log_.warn("no secret existed: generated a new 256-bit secret in " + config_.auth.secretsFile +
            " (mode 0600)");
  return true;
}

std::vector<SocketAddress> ServerApp::selfAddresses() const {
  std::vector<SocketAddress> self;
  // Bound addresses once open (a port 0 listener's real port), configured ones before.
  for (const auto& l : listeners_.bound()) self.push_back(l.bound);
  if (listeners_.bound().empty())
    for (const auto& l : config_.listeners) self.push_back(SocketAddress{l.address, l.port});
  // The HTTP listeners too (threats.md: restund CVE-2021-21382), at their bound
  // address once started (a configured port 0 picks one when they bind).
  if (config_.metrics.enabled)
    self.push_back(obs_ && obs_->service().address() ? *obs_->service().address() : config_.metrics.listen);
  if (config_.admin.listen) self.push_back(admin_ ? admin_->address() : *config_.admin.listen);
  if (config_.credentials.listen)
    self.push_back(credentials_ ? credentials_->address() : *config_.credentials.listen);
  return self;
}

bool ServerApp::start() {
  std::array<uint8_t, 32> nonceKey;
  rng_.fill(nonceKey);  // per process: nonces from a previous run are stale
  nonces_ = std::make_unique<policy::NonceService>(nonceKey, config_.auth.nonceLifetime);
  for (const auto& ip : config_.relay.addresses) {
    const IpAddress shown =
        config_.relay.externalAddress && config_.relay.externalAddress->family() == ip.family()
            ? *config_.relay.externalAddress
            : ip;
    relays_.add(ip, shown, config_.relay.portMin, config_.relay.portMax);
  }
  const std::vector<SocketAddress> self = selfAddresses();
  policy_ = std::make_unique<policy::PolicyHolder>(policy::buildSnapshot(config_, generation_, self));
  events_ = std::make_unique<turn::LogEvents>(log_, clock_);
  shared_ = std::make_unique<turn::SharedLimits>(rng_);
  obs_ = std::make_unique<Observability>(config_, clock_, log_, *events_);
  worker_ = std::make_unique<io::Worker>(io::WorkerDeps{
      clock_, rng_, obs_->events(), relays_, *nonces_, *policy_, log_, shared_.get()});
  worker_->setStreamLimits(streamLimits(config_.transports));
  if (auto opened = listeners_.apply(*worker_, config_.listeners, log_); !opened) {
    log_.error(opened.error());
    return false;
  }
  obs_->start(*worker_, relays_, shared_.get());
  obs_->recordReload(true, clock_.unixSeconds(), "start-up");  // the first load counts
  obs_->noteSecrets(config_.auth.secrets, policy::fileMtime(config_.auth.secretsFile));
  if (!startFleet() || !startAdmin() || !startCredentials()) return false;
  // Metrics and admin listeners configured with port 0 are known only now.
  if (selfAddresses() != self) policy_->store(policy::buildSnapshot(config_, ++generation_, selfAddresses()));
  return true;
}

void ServerApp::announce() {
  const std::string where = describeListeners(*worker_);
  policy::Keyring keyring(config_.auth.secrets);
  if (auto cred = policy::mintCredential(keyring, "webrtc", 86400, clock_.unixSeconds()))
    log_.info("iceServers entry (valid 24h): " + iceServerJson(clientUris(config_), *cred));
  log_.info("turnwarden ready:" + where);
}

Status<std::string> ServerApp::reload() {
  if (configPath_.empty()) {
    log_.warn("reload: running on the built-in config; nothing to reload");
    return err(std::string("running on the built-in config; nothing to reload"));
  }
  auto next = policy::loadConfig(configPath_);
  if (!next) return refuseReload(next.error());
  if (auto st = applyListeners(*next); !st) return refuseReload(st.error());
  // In a fleet the keyring comes from Redis, never from the local copy.
  if (next->auth.secrets.empty() || fleet_) next->auth.secrets = config_.auth.secrets;
  if (fleet_) fleet_->setRotation(next->auth.rotation, policy::rotationGraceSeconds(
                                                           next->auth.rotation, next->auth.maxTtlSeconds));
  config_.auth = next->auth;
  config_.peers = next->peers;
  config_.limits = next->limits;
  config_.relay.tcp = next->relay.tcp;  // the rest of relay: needs a restart
  config_.realm = next->realm;
  config_.listeners = next->listeners;  // their realms too: peers.realms may use them
  config_.server = next->server;
  config_.transports = next->transports;
  worker_->setStreamLimits(streamLimits(config_.transports));
  reloadTlsCertificates(*worker_, config_.listeners, log_);
  config_.quotas = next->quotas;
  config_.rateLimits = next->rateLimits;
  config_.bans = next->bans;
  config_.anomalies = next->anomalies;
  reloadCredentials(*next);
  obs_->setAnomalies(config_.anomalies);
  policy_->store(policy::buildSnapshot(config_, ++generation_, selfAddresses()));
  obs_->recordReload(true, clock_.unixSeconds(), "policy generation " + std::to_string(generation_));
  obs_->noteSecrets(config_.auth.secrets, policy::fileMtime(config_.auth.secretsFile));
  const bool relayChanged = next->relay.addresses != config_.relay.addresses ||
                            next->relay.externalAddress != config_.relay.externalAddress ||
                            next->relay.portMin != config_.relay.portMin ||
                            next->relay.portMax != config_.relay.portMax;
  if (relayChanged)
    log_.warn("reload: relay changes (addresses, external_address, ports) need a restart; "
              "still relaying as before");
  log_.info("reload ok: policy generation " + std::to_string(generation_));
  if (admin_) admin_->setMaxTtl(config_.auth.maxTtlSeconds);
  return {};
}

Status<std::string> ServerApp::refuseReload(const std::vector<policy::ConfigError>& errors) {
  for (const auto& e : errors) log_.error("reload refused: " + e.format());
  log_.error("reload refused: keeping policy generation " + std::to_string(generation_));
  obs_->recordReload(false, clock_.unixSeconds(), policy::formatErrors(errors));
  return err(policy::formatErrors(errors));
}

Status<std::vector<policy::ConfigError>> ServerApp::applyListeners(const policy::Config& next) {
  auto changes = listeners_.apply(*worker_, next.listeners, log_);
  if (!changes) {
    return err(std::vector<policy::ConfigError>{
        {configPath_, 0, 0, "listeners: " + changes.error() + " (no listener changed)"}});
  }
  if (!changes->opened.empty()) log_.info("reload: opened listeners:" + describeListeners(changes->opened));
  if (!changes->closed.empty())
    log_.info("reload: closed listeners:" + describeListeners(changes->closed) +
              " (their udp/dtls allocations ended; tcp/tls connections run on until they close)");
  if (!changes->opened.empty() || !changes->closed.empty())
    log_.info("reload: listening on:" + describeListeners(*worker_));
  return {};
}

void ServerApp::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* app = static_cast<ServerApp*>(arg);
  if (sig == SIGHUP) return (void)app->reload();
  if (sig == SIGUSR1) return app->obs_->reopenEventLog();
  if (sig == SIGUSR2) return (void)app->rotateNow("SIGUSR2");
  app->log_.info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                 ", shutting down");
  app->worker_->stop();
}

int ServerApp::run() {
  std::signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();  // Worker::post() is called from other threads
  if (!ensureSecrets() || !start()) return 1;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) {
    signals_.emplace_back(evsignal_new(worker_->base(), sig, &ServerApp::onSignal, this));
    event_add(signals_.back().get(), nullptr);
  }
  startKeyringWatch();
  announce();
  obs_->setReady(true);
  worker_->run();
  admin_.reset();
  fleet_.reset();  // its Redis connections live on the worker's loop
  credentials_.reset();
  obs_->stop();  // no more posts to the worker
  signals_.clear();
  keyringTimer_.reset();
  worker_.reset();  // closes allocations, relay sockets and listeners
  log_.info("turnwarden stopped");
  return 0;
}

int runServer(const CliArgs& args) {
  auto config = loadOrReport(args.config);
  if (!config) return 2;
  ServerApp app(std::move(*config), args.config);
  return app.run();
}

}  // namespace tw::app
