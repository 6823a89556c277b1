#include "relay/app/usage_setup.h"

#include <unistd.h>

#include "policy/fleet_config.h"
#include "relay/app/observability.h"

namespace tw::app {

namespace {

std::string nodeName(const policy::Config& config) {
  if (config.fleet && !config.fleet->nodeId.empty()) return config.fleet->nodeId;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return policy::autoNodeId(host);
}

}  // namespace

std::unique_ptr<UsageRecords> UsageRecords::make(const policy::Config& config, const Clock& clock,
                                                 Logger& log, uint32_t workers) {
  if (config.usage.file.empty()) return nullptr;
  auto records = std::make_unique<UsageRecords>(
      config.usage, usage::RecordNaming{nodeName(config), clock.unixSeconds()}, clock, workers);
  if (config.fleet)
    records->stream_ =
        std::make_unique<fleet::UsageStream>(config.usage.redisBuffer, config.usage.redisMaxLen);
  if (!records->log_.toFile())
    log.error("usage: cannot open " + config.usage.file + " for appending; records go to stderr");
  log.info("usage: records every " + std::to_string(config.usage.interval.count() / 1000) + " s to " +
           config.usage.file);
  return records;
}

UsageRecords::UsageRecords(const policy::UsageConfig& usage, usage::RecordNaming naming, const Clock& clock,
                           uint32_t workers)
    : log_(usage.file, usage.queue), top_(usage.interval), topN_(usage.topUsers) {
  for (uint32_t i = 0; i < workers; ++i)
    recorders_.push_back(std::make_unique<usage::UsageRecorder>(clock, naming, *this));
}

void UsageRecords::attach(Observability& obs) {
  for (uint32_t i = 0; i < recorders_.size(); ++i) obs.addSink(i, *recorders_[i]);
  metrics_ = std::make_unique<usage::UsageMetrics>(obs.folder().registry());
}

void UsageRecords::put(const usage::UsageRecord& r) {
  log_.put(r);
  if (stream_) stream_->push(usage::formatRecord(r));
  top_.add(r.allocationId, r.user, r.period.bytes(), r.periodEnd);
}

void UsageRecords::publish(int64_t unixNow) {
  if (!metrics_) return;
  metrics_->setTop(top_.top(topN_, unixNow));
  metrics_->setRecords(log_.records(), log_.dropped());
}

void UsageRecords::startTimer(event_base* base, const Clock& clock) {
  clock_ = &clock;
  timer_.reset(event_new(
      base, -1, EV_PERSIST,
      [](evutil_socket_t, short, void* arg) {
        auto* self = static_cast<UsageRecords*>(arg);
        self->publish(self->clock_->unixSeconds());
      },
      this));
  const timeval second{1, 0};
  event_add(timer_.get(), &second);
}

void UsageRecords::stop(Logger& log) {
  timer_.reset();
  log_.stop();
  if (log_.dropped() != 0)
    log.warn("usage: " + std::to_string(log_.dropped()) +
             " records were dropped because the writer's queue (usage.queue) was full");
}

}  // namespace tw::app
