#include "relay/app/observability.h"

namespace tw::app {

Observability::Observability(const policy::Config& config, const Clock& clock, Logger& log,
                             turn::RelayEvents& logEvents)
    : config_(config.metrics),
      log_(log),
      folder_(TW_VERSION),
      stats_(clock),
      eventLog_(config.events.file, config.events.queue, [this] { folder_.recordEventDropped(); }),
      security_(eventLog_, clock, config.events.sampleWindow),
      service_(folder_) {
  fanout_.add(logEvents);
  fanout_.add(stats_);
  fanout_.add(security_);
}

void Observability::recordReload(bool ok, int64_t unixNow, const std::string& details) {
  folder_.recordReload(ok, unixNow);
  eventLog_.push(metrics::SecurityEvent{"reload", ok ? "info" : "critical", "", "", "",
                                        ok ? "success" : "failure", details});
}

Observability::~Observability() { stop(); }

void Observability::start(io::Worker& worker, const turn::RelayAddresses& relays) {
  if (!config_.enabled) return log_.info("metrics: disabled (metrics.enabled: false)");
  // Worker state is read on its own loop thread only: the collector posts.
  service_.addCollector([this, &worker] {
    worker.post([this, &worker] {
      folder_.fold(0, metrics::takeSnapshot(worker.server().counters(), stats_,
                                            worker.server().allocations()));
    });
  });
  service_.addCollector([this, &relays] {
    uint64_t inUse = 0, capacity = 0;
    for (const auto& e : relays.endpoints()) {
      inUse += e.pool->inUse();
      capacity += e.pool->capacity();
    }
    folder_.setPorts(inUse, capacity);
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
