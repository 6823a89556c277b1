#include "relay/app/server_app.h"

#include <event2/thread.h>

#include <csignal>

#include "policy/reload.h"
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
  // thread may post to a worker once it is gone.
  admin_.reset();
  credentials_.reset();
  if (obs_) obs_->stop();
  if (workers_) workers_->stop();
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
  shared_ = std::make_unique<turn::SharedLimits>(rng_);
  const uint32_t count = policy::workerCount(config_);
  obs_ = std::make_unique<Observability>(config_, clock_, log_, rng_, count);
  workers_ = std::make_unique<WorkerPool>(count, [this](turn::WorkerId id) {
    return std::make_unique<io::Worker>(io::WorkerDeps{
        clock_, rng_, obs_->events(id.index), relays_, *nonces_, *policy_, log_, shared_.get(), id,
        [this](uint32_t i) { return &(*workers_)[i]; }, config_.io});
  });
  // The loops do not run yet: listeners open on this thread.
  if (auto opened = listeners_.apply(*workers_, config_.listeners, log_); !opened) {
    log_.error(opened.error());
    return false;
  }
  obs_->start(*workers_, relays_, shared_.get());
  obs_->recordReload(true, clock_.unixSeconds(), "start-up");  // the first load counts
  obs_->noteSecrets(config_.auth.secrets, policy::fileMtime(config_.auth.secretsFile));
  if (!startFleet() || !startAdmin() || !startCredentials()) return false;
  // Generation 1: metrics and admin listeners configured with port 0 are
  // known only now, and the listeners' TLS/DTLS contexts (built once, shared
  // by all workers) travel in the snapshot like every later reload's.
  publish();
  log_.info("workers: " + std::to_string(count) +
            (config_.workers == 0 ? " (auto: one per core)" : ""));
  return true;
}

void ServerApp::announce() {
  std::string where;
  (*workers_)[0].call([&] { where = describeListeners((*workers_)[0]); });
  policy::Keyring keyring(config_.auth.secrets);
  if (auto cred = policy::mintCredential(keyring, "webrtc", 86400, clock_.unixSeconds()))
    log_.info("iceServers entry (valid 24h): " + iceServerJson(clientUris(config_), *cred));
  log_.info("turnwarden ready:" + where);
}

void ServerApp::publish() {
  auto snapshot = policy::buildSnapshot(config_, ++generation_, selfAddresses(), listeners_.tlsContexts());
  policy_->store(snapshot);
  obs_->usePolicy(snapshot);
  // Wake each loop: it takes the snapshot at the top of its next iteration.
  for (size_t i = 0; i < workers_->size(); ++i) (*workers_)[i].post([] {});
}

Status<std::string> ServerApp::reload() {
  if (configPath_.empty()) {
    log_.warn("reload: running on the built-in config; nothing to reload");
    return err(std::string("running on the built-in config; nothing to reload"));
  }
  auto next = policy::loadConfig(configPath_);
  if (!next) return refuseReload(next.error());
  auto changes = applyListeners(*next);
  if (!changes) return refuseReload(changes.error());
  policy::ReloadPlan plan = policy::planReload(config_, std::move(next.value()));
  if (fleet_)
    fleet_->setRotation(plan.config.auth.rotation, policy::rotationGraceSeconds(
                                                       plan.config.auth.rotation, plan.config.auth.maxTtlSeconds));
  reloadCredentials(plan.config);
  config_ = std::move(plan.config);
  publish();  // with the TLS/DTLS contexts apply loaded, once for all workers
  logCertificates(changes->certificates, log_);
  obs_->recordReload(true, clock_.unixSeconds(), "policy generation " + std::to_string(generation_));
  obs_->noteSecrets(config_.auth.secrets, policy::fileMtime(config_.auth.secretsFile));
  for (const auto& key : plan.restartOnly)
    log_.warn("reload: " + key + " changes need a restart; still running with the old " + key);
  log_.info("reload ok: policy generation " + std::to_string(generation_));
  return {};
}

Status<std::string> ServerApp::refuseReload(const std::vector<policy::ConfigError>& errors) {
  for (const auto& e : errors) log_.error("reload refused: " + e.format());
  log_.error("reload refused: keeping policy generation " + std::to_string(generation_));
  obs_->recordReload(false, clock_.unixSeconds(), policy::formatErrors(errors));
  return err(policy::formatErrors(errors));
}

Result<ListenerChanges, std::vector<policy::ConfigError>> ServerApp::applyListeners(const policy::Config& next) {
  auto changes = listeners_.apply(*workers_, next.listeners, log_);
  if (!changes) {
    return err(std::vector<policy::ConfigError>{
        {configPath_, 0, 0, "listeners: " + changes.error() + " (no listener changed)"}});
  }
  if (!changes->opened.empty()) log_.info("reload: opened listeners:" + describeListeners(changes->opened));
  if (!changes->closed.empty())
    log_.info("reload: closed listeners:" + describeListeners(changes->closed) +
              " (their udp/dtls allocations ended; tcp/tls connections run on until they close)");
  if (!changes->opened.empty() || !changes->closed.empty())
    log_.info("reload: listening on:" + describeListeners(listeners_.bound()));
  return std::move(changes.value());
}

void ServerApp::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* app = static_cast<ServerApp*>(arg);
  if (sig == SIGHUP) return (void)app->reload();
  if (sig == SIGUSR1) return app->obs_->reopenEventLog();
  if (sig == SIGUSR2) return (void)app->rotateNow("SIGUSR2");
  app->log_.info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                 ", shutting down");
  app->control_->stop();
}

int ServerApp::run() {
  std::signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();  // loops are woken from other threads (post, stop)
  control_ = std::make_unique<io::EventLoop>();
  if (!ensureSecrets() || !start()) return 1;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) {
    signals_.emplace_back(evsignal_new(control_->base(), sig, &ServerApp::onSignal, this));
    event_add(signals_.back().get(), nullptr);
  }
  startKeyringWatch();
  workers_->start();
  announce();
  obs_->setReady(true);
  control_->run();
  admin_.reset();
  fleet_.reset();  // its Redis connections live on the control loop
  credentials_.reset();
  obs_->stop();  // no more posts to the workers
  workers_->stop();
  signals_.clear();
  keyringTimer_.reset();
  workers_.reset();  // closes allocations, relay sockets and listeners
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
