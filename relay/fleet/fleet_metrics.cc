#include "relay/fleet/fleet_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace tw::fleet {

namespace {
prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name("turnwarden_fleet_" + name).Help(help).Register(r).Add({});
}
}  // namespace

struct FleetMetrics::Impl {
  explicit Impl(prometheus::Registry& r)
      : up(gauge(r, "redis_up", "1 while this node's Redis connections work.")),
        synced(
            gauge(r, "synced", "1 once the fleet keyring is loaded and Redis is up: ready for the fleet.")),
        stale(gauge(r, "keyring_stale",
                    "1 while verifying with the last keyring seen because Redis is unreachable.")),
        version(gauge(r, "keyring_version", "Version of the fleet keyring in force.")),
        lease(gauge(r, "lease_held", "1 while this node holds the rotation lease.")),
        nodes(gauge(r, "nodes", "Live fleet nodes seen at the last read.")),
        reconnects(prometheus::BuildCounter()
                       .Name("turnwarden_fleet_reconnects_total")
                       .Help("Redis reconnections after a lost connection.")
                       .Register(r)
                       .Add({})),
        refused(prometheus::BuildCounter()
                    .Name("turnwarden_fleet_refused_total")
                    .Help("Entries read from Redis and refused, by kind.")
                    .Register(r)),
        messages(prometheus::BuildCounter()
                     .Name("turnwarden_fleet_messages_total")
                     .Help("Fleet messages carried out, by op.")
                     .Register(r)) {
    for (const char* k : {"keyring", "message", "node_field", "ban"}) refused.Add({{"kind", k}});
  }
  prometheus::Gauge& up;
  prometheus::Gauge& synced;
  prometheus::Gauge& stale;
  prometheus::Gauge& version;
  prometheus::Gauge& lease;
  prometheus::Gauge& nodes;
  prometheus::Counter& reconnects;
  prometheus::Family<prometheus::Counter>& refused;
  prometheus::Family<prometheus::Counter>& messages;
};

FleetMetrics::FleetMetrics(prometheus::Registry& registry) : impl_(std::make_unique<Impl>(registry)) {}
FleetMetrics::~FleetMetrics() = default;
void FleetMetrics::setRedisUp(bool up) { impl_->up.Set(up ? 1 : 0); }
void FleetMetrics::setSynced(bool synced) { impl_->synced.Set(synced ? 1 : 0); }
void FleetMetrics::setKeyringStale(bool stale) { impl_->stale.Set(stale ? 1 : 0); }
void FleetMetrics::setKeyringVersion(int64_t v) { impl_->version.Set(double(v)); }
void FleetMetrics::setLeaseHeld(bool held) { impl_->lease.Set(held ? 1 : 0); }
void FleetMetrics::setNodes(size_t n) { impl_->nodes.Set(double(n)); }
void FleetMetrics::countReconnect() { impl_->reconnects.Increment(); }
void FleetMetrics::countRefused(std::string_view kind, uint64_t n) {
  impl_->refused.Add({{"kind", std::string(kind)}}).Increment(double(n));
}
void FleetMetrics::countMessage(std::string_view op) {
  impl_->messages.Add({{"op", std::string(op)}}).Increment();
}

}  // namespace tw::fleet
