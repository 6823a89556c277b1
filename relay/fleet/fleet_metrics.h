#pragma once
// Fleet mode's metrics (docs/fleet.md, docs/observability in config.md):
//   turnwarden_fleet_redis_up            1 while both Redis connections work
//   turnwarden_fleet_synced              1 once the fleet keyring is loaded and Redis is up
//   turnwarden_fleet_keyring_stale       1 while verifying with the last keyring seen
//                                        because Redis is unreachable
//   turnwarden_fleet_keyring_version     version of the fleet keyring in force
//   turnwarden_fleet_lease_held          1 on the node that rotates
//   turnwarden_fleet_nodes               live nodes seen at the last fleet read
//   turnwarden_fleet_reconnects_total    Redis reconnections after a loss
//   turnwarden_fleet_refused_total{kind} Redis entries refused (keyring, message, node_field)
//   turnwarden_fleet_messages_total{op}  fleet messages carried out
// prometheus-cpp stays behind this header (relay/ never includes it).
#include <cstdint>
#include <memory>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace tw::fleet {

class FleetMetrics {
 public:
  explicit FleetMetrics(prometheus::Registry& registry);
  ~FleetMetrics();
  void setRedisUp(bool up);
  void setSynced(bool synced);
  void setKeyringStale(bool stale);
  void setKeyringVersion(int64_t version);
  void setLeaseHeld(bool held);
  void setNodes(size_t n);
  void countReconnect();
  void countRefused(std::string_view kind, uint64_t n = 1);
  void countMessage(std::string_view op);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::fleet
