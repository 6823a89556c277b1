#include "policy/reload.h"

#include <functional>

namespace tw::policy {

namespace {

bool sameFleet(const std::optional<FleetConfig>& a, const std::optional<FleetConfig>& b) {
  if (!a || !b) return !a && !b;
  return a->redis.host == b->redis.host && a->redis.port == b->redis.port &&
         a->redis.passwordFile == b->redis.passwordFile && a->redis.db == b->redis.db &&
         a->nodeId == b->nodeId && a->heartbeat == b->heartbeat;
}

bool sameRelay(const RelayConfig& a, const RelayConfig& b) {
  return a.addresses == b.addresses && a.externalAddress == b.externalAddress &&
         a.portMin == b.portMin && a.portMax == b.portMax;
}

/// Keeps `running`'s value of one restart-only section, noting a change.
template <class T, class Same>
void keep(T& next, const T& running, Same same, const char* key, std::vector<std::string>& changed) {
  if (!same(next, running)) changed.emplace_back(key);
  next = running;
}

}  // namespace

ReloadPlan planReload(const Config& running, Config next) {
  ReloadPlan plan;
  auto& changed = plan.restartOnly;
  // An inline keyring left empty (secrets only in a file not yet read) keeps the running one.
  if (next.auth.secrets.empty()) next.auth.secrets = running.auth.secrets;
  // In a fleet the keyring comes from Redis (docs/fleet.md); the local file
  // is only its seed and backup copy, so a reload never replaces it.
  if (running.fleet) next.auth.secrets = running.auth.secrets;
  const bool tcp = next.relay.tcp;  // relay.tcp is reloadable, the rest of relay is not
  keep(next.relay, running.relay, sameRelay, "relay", changed);
  next.relay.tcp = tcp;
  keep(next.workers, running.workers, std::equal_to<>(), "workers", changed);
  keep(next.io, running.io, std::equal_to<>(), "io", changed);
  keep(next.log, running.log, [](const auto& a, const auto& b) { return a.level == b.level; }, "log",
       changed);
  keep(next.metrics, running.metrics,
       [](const auto& a, const auto& b) { return a.enabled == b.enabled && a.listen == b.listen; },
       "metrics", changed);
  keep(next.events, running.events,
       [](const auto& a, const auto& b) {
         return a.file == b.file && a.queue == b.queue && a.sampleWindow == b.sampleWindow;
       },
       "events", changed);
  keep(next.admin, running.admin,
       [](const auto& a, const auto& b) { return a.listen == b.listen && a.tokenFile == b.tokenFile; },
       "admin", changed);
  keep(next.fleet, running.fleet, sameFleet, "fleet", changed);
  plan.config = std::move(next);
  return plan;
}

}  // namespace tw::policy
