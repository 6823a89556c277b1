#pragma once
// Usage records in the running server (docs/usage.md): the usage file's
// writer and one UsageRecorder per worker, added to that worker's event
// fan-out. Made before the workers and stopped after them, so the final
// records of the allocations a shutdown ends are written too.
#include <cstdint>
#include <memory>
#include <vector>

#include "policy/config.h"
#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/fleet/usage_stream.h"
#include "relay/io/handles.h"
#include "relay/usage/recorder.h"
#include "relay/usage/top_users.h"
#include "relay/usage/usage_log.h"
#include "relay/usage/usage_metrics.h"

namespace tw::app {

class Observability;

class UsageRecords final : public usage::RecordSink {
 public:
  /// nullptr when usage.file is not set (no records).
  static std::unique_ptr<UsageRecords> make(const policy::Config& config, const Clock& clock, Logger& log,
                                            uint32_t workers);
  UsageRecords(const policy::UsageConfig& usage, usage::RecordNaming naming, const Clock& clock,
               uint32_t workers);
  /// Adds worker i's recorder to worker i's fan-out (before the workers run)
  /// and registers the usage metric families.
  void attach(Observability& obs);
  /// A record from any worker: to the file and to the top-users tally.
  void put(const usage::UsageRecord& r) override;
  /// Once a second (control loop): the top-users series and the record counters.
  void publish(int64_t unixNow);
  /// Runs publish() every second on `base` (the control loop) until stop().
  void startTimer(event_base* base, const Clock& clock);
  /// SIGUSR1: reopen the file (logrotate).
  void reopen() { log_.reopen(); }
  /// After the workers ended their allocations: stops the timer and writes
  /// every queued record.
  void stop(Logger& log);
  usage::UsageLog& log() { return log_; }
  /// Fleet mode: the records for the realm's Redis Stream (FleetNode sends them); else null.
  fleet::UsageStream* stream() { return stream_.get(); }

 private:
  usage::UsageLog log_;
  usage::TopUsers top_;
  uint32_t topN_;
  std::unique_ptr<usage::UsageMetrics> metrics_;
  std::unique_ptr<fleet::UsageStream> stream_;  // made before the workers run
  const Clock* clock_ = nullptr;
  io::EventPtr timer_;
  std::vector<std::unique_ptr<usage::UsageRecorder>> recorders_;
};

}  // namespace tw::app
