#include "relay/app/observability.h"

#include "relay/app/http_options.h"

namespace tw::app {

Observability::Observability(const policy::Config& config, const Clock& clock, Logger& log, Random& rng,
                             uint32_t workers)
    : config_(config.metrics),
      httpLimits_(config.http),
      clock_(clock),
      log_(log),
      folder_(TW_VERSION),
      eventLog_(config.events.file, config.events.queue, [this] { folder_.recordEventDropped(); }),
      security_(eventLog_, clock, config.events.sampleWindow),
      anomalies_(config.anomalies, clock, [this](const metrics::Anomaly& a) { onAnomaly(a); }),
      hub_({&security_, &anomalies_}, &anomalies_),
      connections_(workers),
      service_(folder_) {
  for (uint32_t i = 0; i < workers; ++i)
    sinks_.push_back(std::make_unique<WorkerSinks>(log, clock, rng, hub_, i, config.metrics.enabled));
  hub_.start();
}

void Observability::onAnomaly(const metrics::Anomaly& a) {
  folder_.recordAnomaly(a.kind);
  eventLog_.push(
      {"anomaly", "warning", a.user, a.clientIp, a.peer, std::string(metrics::toString(a.kind)), a.details});
  if (a.action != metrics::AnomalyAction::EndAllocation || !workers_) return;
  // On the allocation's own worker: this runs on the hub thread.
  io::Worker& owner = workers_->ownerOf(a.allocationId);
  owner.post([w = &owner, id = a.allocationId] { w->server().endAllocation(id, "anomaly"); });
}

void Observability::usePolicy(std::shared_ptr<const policy::PolicySnapshot> snapshot) {
  hub_.post([this, snapshot] { anomalies_.setConfig(snapshot->anomalies); });
}

void Observability::recordReload(bool ok, int64_t unixNow, const std::string& details) {
  folder_.recordReload(ok, unixNow);
  eventLog_.push(metrics::SecurityEvent{"reload", ok ? "info" : "critical", "", "", "",
                                        ok ? "success" : "failure", details});
}

void Observability::noteSecrets(const std::vector<policy::Secret>& secrets,
                                std::optional<int64_t> fileMtime) {
  const int64_t now = clock_.unixSeconds();
  std::lock_guard lock(secretMu_);
  if (secretAge_.observe(secrets, fileMtime, now)) {
    folder_.recordRotation();
    eventLog_.push(metrics::SecurityEvent{"rotation", "info", "", "", "", "",
                                          "minting secret is now " + secrets.front().id});
  }
  if (auto age = secretAge_.ageSeconds(now)) folder_.setSecretAge(*age);
}

Observability::~Observability() { stop(); }

void Observability::collect(io::Worker& worker, uint32_t i) {
  turn::TurnServer& server = worker.server();
  folder_.fold(i, metrics::takeSnapshot(server.counters(), sinks_[i]->stats, server.allocations()));
  metrics::HubEvent sample;
  sample.worker = i;
  sample.sample = metrics::sampleAllocations(server.allocations(), sinks_[i]->sends,
                                             server.policy().anomalies, clock_.now());
  hub_.push(std::move(sample));
  size_t dtls = 0;
  for (const auto& l : worker.dtlsListeners()) dtls += l->sessionCount();
  std::lock_guard lock(connectionsMu_);
  connections_[i] = {worker.streams().connectionCount(Transport::Tcp),
                     worker.streams().connectionCount(Transport::Tls), dtls,
                     worker.tcpRelay().connectionCount()};
}

void Observability::setConnections() {
  std::array<uint64_t, 4> sum{};
  {
    std::lock_guard lock(connectionsMu_);
    for (const auto& c : connections_)
      for (size_t k = 0; k < sum.size(); ++k) sum[k] += c[k];
  }
  folder_.setTcpConnections(Transport::Tcp, sum[0]);
  folder_.setTcpConnections(Transport::Tls, sum[1]);
  folder_.setTcpConnections(Transport::Dtls, sum[2]);
  folder_.setTcpRelayConnections(sum[3]);
}

void Observability::start(WorkerPool& workers, const turn::RelayAddresses& relays,
                          turn::SharedLimits* shared) {
  workers_ = &workers;
  if (!config_.enabled) return log_.info("metrics: disabled (metrics.enabled: false)");
  // Worker state is read on its own loop thread only: the collector posts,
  // and each worker folds its own copy (MetricsFolder is thread-safe).
  service_.addCollector([this, &workers] {
    for (uint32_t i = 0; i < workers.size(); ++i)
      workers[i].post([this, w = &workers[i], i] { collect(*w, i); });
    setConnections();  // last round's counts
    std::lock_guard lock(secretMu_);
    if (auto age = secretAge_.ageSeconds(clock_.unixSeconds())) folder_.setSecretAge(*age);
  });
  service_.addCollector([this, &relays, shared] {
    uint64_t inUse = 0, capacity = 0;
    for (const auto& e : relays.endpoints()) {
      inUse += e.pool->inUse();
      capacity += e.pool->capacity();
    }
    folder_.setPorts(inUse, capacity);
    if (shared) folder_.setBansActive(shared->bans.list(clock_.now()).size());  // thread-safe
  });
  if (auto st = service_.start(config_.listen, httpOptions(httpLimits_, log_)); !st)
    return log_.error("metrics: " + st.error() + "; /metrics is not served");
  log_.info("metrics: serving http://" + service_.address()->toString() + "/metrics, /healthz and /readyz");
}

void Observability::stop() {
  service_.stop();
  hub_.stop();
  eventLog_.stop();
}

}  // namespace tw::app
