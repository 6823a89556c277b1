#pragma once
// The Prometheus registry of turnwarden and the one place that writes it.
//
// Workers count in plain integers (WorkerSnapshot); fold() adds the growth
// since that worker's previous snapshot to the registry's counters and
// histograms, and sets gauges to the sum over workers. Process-wide facts
// (reloads, rotations, ports, bans, anomalies) are recorded directly.
// Every method is thread-safe.
//
// Naming: turnwarden_ prefix, _total on counters, base units (seconds,
// bytes); labels come from bounded sets only (never user, IP, peer, port).
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "metrics/anomaly_kind.h"
#include "metrics/worker_stats.h"

namespace tw::metrics {

class MetricsFolder {
 public:
  explicit MetricsFolder(std::string_view version);
  ~MetricsFolder();

  /// Adds what `worker` counted since its previous snapshot; sets gauges.
  void fold(size_t worker, const WorkerSnapshot& snapshot);

  void setPorts(uint64_t inUse, uint64_t capacity);
  /// A config reload finished; `ok` false when it was refused.
  void recordReload(bool ok, int64_t unixNow);
  void recordRotation();
  void setSecretAge(double seconds);
  void setBansActive(uint64_t n);
  void recordBan();
  void recordAnomaly(AnomalyKind kind);
  void recordRateLimited(std::string_view kind);
  /// tcp_connections_active{listener}: Tcp, Tls, Dtls (sessions).
  void setTcpConnections(Transport listener, uint64_t n);
  /// TCP relay peer connections of all workers (pending and joined).
  void setTcpRelayConnections(uint64_t n);
  /// A security event was dropped because the event queue was full.
  void recordEventDropped();

  /// The registry in the Prometheus text exposition format.
  std::string render() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  struct Families;
  void foldCounters(const WorkerSnapshot& now, const WorkerSnapshot& before);
  void foldStats(const WorkerStats& now, const WorkerStats& before);
  void foldHistograms(const WorkerStats& now, const WorkerStats& before);
  void setGauges();

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
  std::mutex mu_;
  std::map<size_t, WorkerSnapshot> last_;
  std::map<std::string, uint64_t> allocActiveSeen_;
};

}  // namespace tw::metrics
