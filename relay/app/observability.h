#pragma once
// Everything the server exports about itself, wired in one place: the
// Prometheus registry (MetricsFolder), the per-worker StatsEvents, the
// /metrics + /healthz + /readyz listener, the security event log, and the
// fan-out that feeds the log, the counters and the event log from the
// relay's RelayEvents.
#include <memory>

#include "metrics/anomaly.h"
#include "metrics/event_log.h"
#include "metrics/folder.h"
#include "metrics/metrics_service.h"
#include "metrics/secret_age.h"
#include "metrics/security_events.h"
#include "metrics/stats_events.h"
#include "policy/config.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/io/worker.h"
#include "relay/turn/fanout_events.h"
#include "relay/turn/relay_addresses.h"
#include "relay/turn/shared_limits.h"

namespace tw::app {

class Observability {
 public:
  Observability(const policy::Config& config, const Clock& clock, Logger& log,
                turn::RelayEvents& logEvents);
  ~Observability();

  /// What the worker reports to: the log sink, the counters, the event log.
  turn::RelayEvents& events() { return fanout_; }
  /// Registers the collectors for `worker` and the port pools, and opens the
  /// metrics listener. A listener that cannot bind is logged, not fatal:
  /// relaying matters more than its statistics.
  /// `shared` (may be null) gives bans_active.
  void start(io::Worker& worker, const turn::RelayAddresses& relays, turn::SharedLimits* shared);
  /// Stops the collector and the listener; call before the worker goes away.
  void stop();
  void setReady(bool ready) { service_.setReady(ready); }
  /// Counts a config load and writes a `reload` event with its result.
  void recordReload(bool ok, int64_t unixNow, const std::string& details);
  /// The keyring now in force (start-up, rotation, file change, prune,
  /// reload; loop thread). A new minting secret counts as a rotation and
  /// writes a `rotation` event; it also restarts secret_age_seconds.
  /// `fileMtime`: the keyring file's mtime, nullopt for inline secrets.
  void noteSecrets(const std::vector<policy::Secret>& secrets, std::optional<int64_t> fileMtime);
  /// SIGUSR1: reopen the event log file (logrotate).
  void reopenEventLog() { eventLog_.reopen(); }
  metrics::EventLog& eventLog() { return eventLog_; }
  metrics::MetricsFolder& folder() { return folder_; }
  metrics::MetricsService& service() { return service_; }
  /// A reload may change the thresholds (call on the loop thread).
  void setAnomalies(const policy::AnomaliesConfig& c) { anomalies_.setConfig(c); }

 private:
  void onAnomaly(const metrics::Anomaly& a);
  /// tcp_connections_active per listener kind (loop thread).
  void setConnections(io::Worker& worker);

  policy::MetricsConfig config_;
  const Clock& clock_;
  bool scanRevoke_;
  Logger& log_;
  metrics::MetricsFolder folder_;
  metrics::StatsEvents stats_;
  metrics::EventLog eventLog_;
  metrics::SecurityEvents security_;
  metrics::AnomalyDetector anomalies_;
  metrics::SecretAge secretAge_;  // loop thread only
  io::Worker* worker_ = nullptr;  // set by start(); anomaly revocations post to it
  turn::FanoutEvents fanout_;
  metrics::MetricsService service_;
};

}  // namespace tw::app
