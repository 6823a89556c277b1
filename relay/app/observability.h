#pragma once
// Everything the server exports about itself, wired in one place: the
// Prometheus registry (MetricsFolder), each worker's own event sinks (log
// lines, plain-integer counters, Send destinations per allocation, a
// forwarder into the EventHub), the merged
// stream the security event log and the anomaly detectors read, the
// /metrics + /healthz + /readyz listener and the collector that folds the
// workers' counters once a second.
#include <memory>
#include <mutex>
#include <vector>

#include "metrics/anomaly.h"
#include "metrics/event_hub.h"
#include "metrics/event_log.h"
#include "metrics/folder.h"
#include "metrics/secret_age.h"
#include "metrics/security_events.h"
#include "metrics/stats_events.h"
#include "policy/config.h"
#include "policy/snapshot.h"
#include "relay/app/worker_pool.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/base/random.h"
#include "relay/http/metrics_service.h"
#include "relay/turn/fanout_events.h"
#include "relay/turn/log_events.h"
#include "relay/turn/relay_addresses.h"
#include "relay/turn/shared_limits.h"

namespace tw::app {

class Observability {
 public:
  /// `rng` (thread-safe, outlives this) seeds the Send-destination hashes.
  Observability(const policy::Config& config, const Clock& clock, Logger& log, Random& rng, uint32_t workers);
  ~Observability();

  /// What worker `i` reports to (its loop thread only): its log sink, its
  /// counters, its Send destinations (with metrics on) and the hub forwarder.
  turn::RelayEvents& events(uint32_t i) { return sinks_[i]->fanout; }
  /// One more sink for worker i's events (usage records), before the workers run.
  void addSink(uint32_t i, turn::RelayEvents& sink) { sinks_[i]->fanout.add(sink); }
  /// Registers the collectors for the workers and the port pools, and opens
  /// the metrics listener. A listener that cannot bind is logged, not fatal:
  /// relaying matters more than its statistics.
  /// `shared` (may be null) gives bans_active.
  void start(WorkerPool& workers, const turn::RelayAddresses& relays, turn::SharedLimits* shared);
  /// Stops the collector, the listener and the hub; call before the workers go away.
  void stop();
  void setReady(bool ready) { service_.setReady(ready); }
  /// Counts a config load and writes a `reload` event with its result.
  void recordReload(bool ok, int64_t unixNow, const std::string& details);
  /// The keyring now in force (start-up, rotation, file change, prune,
  /// reload; control thread). A new minting secret counts as a rotation and
  /// writes a `rotation` event; it also restarts secret_age_seconds.
  /// `fileMtime`: the keyring file's mtime, nullopt for inline secrets.
  void noteSecrets(const std::vector<policy::Secret>& secrets, std::optional<int64_t> fileMtime);
  /// SIGUSR1: reopen the event log file (logrotate).
  void reopenEventLog() { eventLog_.reopen(); }
  metrics::EventLog& eventLog() { return eventLog_; }
  metrics::MetricsFolder& folder() { return folder_; }
  http::MetricsService& service() { return service_; }
  /// Waits until every event queued so far reached the detectors and the log.
  void flushEvents() { hub_.flush(); }
  /// A new policy snapshot is in force: the detectors take its anomaly
  /// settings (on the hub thread, between events).
  void usePolicy(std::shared_ptr<const policy::PolicySnapshot> snapshot);

 private:
  struct WorkerSinks {
    /// `sampled`: metrics are on, so the collector samples the allocations
    /// and the Send destinations are worth counting (else nobody reads them).
    WorkerSinks(Logger& log, const Clock& clock, Random& rng, metrics::EventHub& hub, uint32_t i,
                bool sampled)
        : log(log, clock), stats(clock), sends(clock, rng), forward(hub, i) {
      fanout.add(this->log);
      fanout.add(stats);
      if (sampled) fanout.add(sends, /*sendTargets=*/true);
      fanout.add(forward);
    }
    turn::LogEvents log;
    metrics::StatsEvents stats;
    metrics::SendTargets sends;  // never queued: read by collect() on this worker
    metrics::HubForwarder forward;
    turn::FanoutEvents fanout;
  };
  void onAnomaly(const metrics::Anomaly& a);
  /// Worker i's share, on its loop thread: counters, gauges, connections,
  /// and the allocation sample for the detectors.
  void collect(io::Worker& worker, uint32_t i);
  void setConnections();

  policy::MetricsConfig config_;
  policy::HttpLimitsConfig httpLimits_;
  const Clock& clock_;
  Logger& log_;
  metrics::MetricsFolder folder_;
  metrics::EventLog eventLog_;
  metrics::SecurityEvents security_;    // hub thread only
  metrics::AnomalyDetector anomalies_;  // hub thread only
  metrics::EventHub hub_;
  std::vector<std::unique_ptr<WorkerSinks>> sinks_;
  std::mutex secretMu_;
  metrics::SecretAge secretAge_;  // under secretMu_
  /// Per worker: tcp, tls, dtls, tcp relay connections (collector thread).
  std::vector<std::array<uint64_t, 4>> connections_;
  std::mutex connectionsMu_;
  WorkerPool* workers_ = nullptr;  // set by start(); anomaly revocations post to it
  http::MetricsService service_;
};

}  // namespace tw::app
