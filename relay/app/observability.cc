#include "relay/app/observability.h"

namespace tw::app {

Observability::Observability(const policy::Config& config, const Clock& clock, Logger& log,
                             turn::RelayEvents& logEvents)
    : config_(config.metrics),
      clock_(clock),
      log_(log),
      folder_(TW_VERSION),
      stats_(clock),
      eventLog_(config.events.file, config.events.queue, [this] { folder_.recordEventDropped(); }),
      security_(eventLog_, clock, config.events.sampleWindow),
      anomalies_(config.anomalies, clock, [this](const metrics::Anomaly& a) { onAnomaly(a); }),
      service_(folder_) {
  scanRevoke_ = config.anomalies.scanRevoke;
  fanout_.add(logEvents);
  fanout_.add(stats_);
  fanout_.add(security_);
  fanout_.add(anomalies_);
}

void Observability::onAnomaly(const metrics::Anomaly& a) {
  folder_.recordAnomaly(a.kind);
  eventLog_.push({"anomaly", "warning", a.user, a.clientIp, a.peer, a.kind, a.details});
  if (a.kind != "relay_scan" || !scanRevoke_ || a.allocationId == 0 || !worker_) return;
  // Not from inside the event: the allocation may be in use by the caller.
  worker_->post([w = worker_, id = a.allocationId] { w->server().endAllocation(id, "anomaly"); });
}

void Observability::setConnections(io::Worker& worker) {
  folder_.setTcpConnections("tcp", worker.streams().connectionCount(Transport::Tcp));
  folder_.setTcpConnections("tls", worker.streams().connectionCount(Transport::Tls));
  size_t dtls = 0;
  for (const auto& l : worker.dtlsListeners()) dtls += l->sessionCount();
  folder_.setTcpConnections("dtls", dtls);
  folder_.setTcpRelayConnections(worker.tcpRelay().connectionCount());
}

void Observability::recordReload(bool ok, int64_t unixNow, const std::string& details) {
  folder_.recordReload(ok, unixNow);
  eventLog_.push(metrics::SecurityEvent{"reload", ok ? "info" : "critical", "", "", "",
                                        ok ? "success" : "failure", details});
}

void Observability::noteSecrets(const std::vector<policy::Secret>& secrets,
                                std::optional<int64_t> fileMtime) {
  const int64_t now = clock_.unixSeconds();
  if (secretAge_.observe(secrets, fileMtime, now)) {
    folder_.recordRotation();
    eventLog_.push(metrics::SecurityEvent{"rotation", "info", "", "", "", "",
                                          "minting secret is now " + secrets.front().id});
  }
  if (auto age = secretAge_.ageSeconds(now)) folder_.setSecretAge(*age);
}

Observability::~Observability() { stop(); }

void Observability::start(io::Worker& worker, const turn::RelayAddresses& relays,
                          turn::SharedLimits* shared) {
  worker_ = &worker;
  if (!config_.enabled) return log_.info("metrics: disabled (metrics.enabled: false)");
  // Worker state is read on its own loop thread only: the collector posts.
  service_.addCollector([this, &worker] {
    worker.post([this, &worker] {
      folder_.fold(0, metrics::takeSnapshot(worker.server().counters(), stats_,
                                            worker.server().allocations()));
      anomalies_.sample(worker.server().allocations());
      setConnections(worker);
      if (auto age = secretAge_.ageSeconds(clock_.unixSeconds())) folder_.setSecretAge(*age);
    });
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
  if (auto st = service_.start(config_.listen); !st)
    return log_.error("metrics: " + st.error() + "; /metrics is not served");
  log_.info("metrics: serving http://" + service_.address()->toString() +
            "/metrics, /healthz and /readyz");
}

void Observability::stop() {
  service_.stop();
  eventLog_.stop();
}

}  // namespace tw::app
