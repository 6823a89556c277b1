#pragma once
// Fleet mode (docs/fleet.md): the pure parts of what nodes keep in Redis,
// testable without Redis: the keyring entry and its validation, a node's
// registry record with its allocation counts, the fleet-wide quota sums, the
// rotation lease and the timing derived from the heartbeat.
//
// Everything read from Redis is untrusted: a keyring entry must pass the
// same validation as the YAML keyring file (and keep a usable secret), and
// a node record's malformed fields are skipped and counted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/credentials.h"
#include "policy/quotas.h"
#include "policy/rotation.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/base/result.h"

namespace tw::fleet {

/// How often and for how long, all from fleet.heartbeat.
struct FleetTiming {
  tw::Duration heartbeat;
  tw::Duration tick;          ///< quota share push (when changed) and fleet read
  tw::Duration nodeTtl;       ///< a node record lives this long after its last write
  tw::Duration leaseTtl;      ///< the rotation lease's PX
  tw::Duration redisTimeout;  ///< a reply later than this drops the connection
};
FleetTiming fleetTiming(tw::Duration heartbeat);

/// The keyring hash: {yaml: secrets file text, version: N >= 1, rotated_at: unix s}.
struct FleetKeyring {
  std::vector<policy::Secret> secrets;
  int64_t version = 0;
  int64_t rotatedAt = 0;
};

/// From HGETALL's flat field/value list; nullopt when the hash is absent
/// (empty list). Refused (error text, never a secret value): missing or
/// bad version, YAML failing the keyring file's validation, or no secret
/// usable at `nowUnix` (accepting it would leave zero valid secrets).
Result<std::optional<FleetKeyring>, std::string> parseFleetKeyring(const std::vector<std::string>& flat,
                                                                   int64_t nowUnix);

/// What the lease holder writes next: a rotation when auth.rotation's
/// interval has passed since rotated_at (or `force`), else a prune of
/// expired secrets when some expired and one stays; nullopt: nothing to do.
struct KeyringChange {
  std::vector<policy::Secret> secrets;
  bool rotated = false;
};
std::optional<KeyringChange> planKeyringChange(const FleetKeyring& current,
                                               const std::optional<policy::RotationConfig>& rotation,
                                               int64_t graceSeconds, int64_t nowUnix, Random& rng,
                                               bool force);

/// Who a node is, for GET /admin/nodes and `turnwarden fleet status`.
struct NodeInfo {
  std::string id;
  std::string addresses;  ///< listeners, space separated
  std::string version;
  uint64_t allocations = 0;
  uint64_t bps = 0;     ///< bandwidth reserved by live allocations (their max_bps), bits/s
  int64_t started = 0;  ///< unix seconds
  int64_t seen = 0;     ///< unix seconds of the record's last write
  bool ready = false;
  bool draining = false;
  bool leaseHolder = false;
};

struct NodeRecord {
  NodeInfo info;
  policy::QuotaCounts counts;
  size_t badFields = 0;  ///< malformed fields skipped
};

/// The node hash as HSET's flat field/value list: info fields, then
/// "u:IP USER" (per_user: one credential from one client IP) and "i:IP"
/// count fields.
std::vector<std::string> encodeNodeRecord(const NodeInfo& info, const policy::QuotaCounts& counts);
NodeRecord parseNodeRecord(std::string id, const std::vector<std::string>& flat);

/// Allocation counts of every node but `self`, summed.
policy::QuotaCounts sumOtherNodes(const std::vector<NodeRecord>& nodes, std::string_view self);

/// The answering node's own fleet state, known even while Redis is away
/// (the registry in Redis cannot say that a node lost Redis).
struct NodeSelf {
  std::string id;
  bool redisUp = false;
  bool fleetReady = false;     ///< Redis up and the fleet keyring loaded
  int64_t keyringVersion = 0;  ///< 0: none from Redis yet
};

/// {"self":{...},"nodes":[{...}, ...]} for GET /admin/nodes.
std::string nodesJson(const NodeSelf& self, const std::vector<NodeInfo>& nodes);

/// The rotation lease as this node sees it. A grant for a request sent at
/// `sentAt` is trusted for two thirds of its TTL only, so a node whose
/// renewals stall stops rotating before Redis lets another node take over.
class RotationLease {
 public:
  bool held(tw::Instant now) const { return until_ && now < *until_; }
  void granted(tw::Instant sentAt, tw::Duration ttl) { until_ = sentAt + ttl * 2 / 3; }
  void lost() { until_.reset(); }

 private:
  std::optional<tw::Instant> until_;
};

}  // namespace tw::fleet
