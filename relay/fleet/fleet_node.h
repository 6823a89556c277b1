#pragma once
// A node's part in a fleet (docs/fleet.md): on the server's loop, through
// RedisLink, it
//  - loads the realm's keyring from Redis (seeding an empty one from the
//    local keyring), follows it through pub/sub and re-reads it every
//    heartbeat, refusing an entry that fails the keyring file's validation,
//    and keeps a 0600 copy in auth.secrets_file for starts without Redis;
//  - takes and renews the rotation lease; the holder runs auth.rotation
//    (compare-and-set, so no secret is ever lost);
//  - publishes the bans this node starts and imposes the others' locally
//    (the packet path reads only the local BanTable);
//  - writes its allocation counts and registry record with a TTL, and feeds
//    the sum over the other live nodes to the QuotaBook;
//  - carries out fleet admin messages (end a user's sessions, lift a ban,
//    reload, drain), its own included.
// Losing Redis changes nothing on the packet path: the last keyring keeps
// verifying (said in a log line and turnwarden_fleet_keyring_stale), bans
// stay, and quotas fall back to local counts once the fleet's lapse.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "policy/fleet_config.h"
#include "relay/fleet/fleet_keys.h"
#include "relay/fleet/fleet_metrics.h"
#include "relay/fleet/fleet_state.h"
#include "relay/fleet/redis_link.h"
#include "relay/fleet/usage_stream.h"
#include "relay/turn/shared_limits.h"

namespace tw::fleet {

/// What the node asks of the server; every call runs on the loop thread.
struct FleetHost {
  /// Put this keyring in force (a new policy snapshot).
  std::function<void(std::vector<policy::Secret>, const std::string& why)> keyring;
  /// End every allocation of `user`; how many ended.
  std::function<size_t(const std::string& user)> endUser;
  std::function<void()> reload;
  std::function<void()> drain;
  /// Addresses, allocations, readiness (id, version, times are filled in here).
  std::function<fleet::NodeInfo()> describe;
};

struct FleetSettings {
  policy::FleetConfig config;
  std::string realm;
  std::string nodeId;    ///< resolved (never "auto")
  std::string password;  ///< Redis AUTH; empty = none
  std::string version;
  std::string secretsFile;           ///< local copy; empty = none
  std::vector<policy::Secret> seed;  ///< seeds an empty fleet keyring
  int64_t seedRotatedAt = 0;
  std::optional<policy::RotationConfig> rotation;
  int64_t graceSeconds = 86400;
};

struct FleetDeps {
  event_base* base;
  const Clock& clock;
  Random& rng;
  Logger& log;
  turn::SharedLimits& shared;
  fleet::FleetMetrics& metrics;
  /// Usage records for the realm's stream (usage.file set); null: none.
  UsageStream* usage = nullptr;
};

class FleetNode {
 public:
  using Done = std::function<void(Result<std::string, std::string>)>;

  FleetNode(FleetDeps deps, FleetSettings settings, FleetHost host);
  ~FleetNode();
  void start();
  /// Loaded the fleet keyring and Redis is up.
  bool synced() const { return synced_; }
  const std::string& nodeId() const { return settings_.nodeId; }
  /// A reload may change auth.rotation (the grace with it).
  void setRotation(const std::optional<policy::RotationConfig>& rotation, int64_t graceSeconds);

  // Loop thread; `done` gets a short JSON-safe text or the reason it failed.
  /// Rotates the fleet keyring now (any node may; compare-and-set).
  void rotate(const std::string& why, Done done);
  /// Publishes an admin action to every node (this one included).
  void publish(fleet::FleetMessage m, Done done);
  /// Deletes the ban keys of `ip` (every port) and tells every node to lift
  /// its bans.
  void liftBan(const IpAddress& ip, Done done);

  /// Any thread: the fleet's nodes as last read, as JSON.
  std::string nodesJson() const;

 private:
  // fleet_node.cc: lifecycle, messages, bans.
  void onUp();
  void onDown(const std::string& why);
  void onMessage(std::string_view text);
  void apply(const fleet::FleetMessage& m);
  void tick();
  void publishNewBans();
  void resyncBans();
  bool eval(const char* script, std::vector<std::string> keys, std::vector<std::string> args,
            RedisLink::ReplyFn fn);
  static void onTick(evutil_socket_t, short, void* arg);
  // fleet_keyring.cc: keyring, lease, rotation.
  void beat();
  void loadKeyring();
  void adopt(fleet::FleetKeyring k, const std::string& why);
  void writeKeyring(int64_t expected, std::vector<policy::Secret> secrets, int64_t rotatedAt,
                    std::function<void(int64_t version)> then);
  void rotateAttempt(int left, const std::string& why, Done done);
  void renewLease();
  // fleet_usage.cc: usage records to the realm's Redis Stream, and
  // quotas.bytes_per_user counted across the fleet.
  void flushUsage();
  void syncVolume();
  // fleet_share.cc: registry record, quota shares.
  void writeRecord();
  void readFleet();
  void forgetFleetCounts();
  /// Copies Redis up, synced and the keyring version for nodesJson().
  void noteSelf();

  FleetDeps deps_;
  FleetSettings settings_;
  FleetHost host_;
  fleet::FleetKeys keys_;
  fleet::FleetTiming timing_;
  std::unique_ptr<RedisLink> link_;
  io::EventPtr tick_;
  Instant lastVolumeRead_{};  ///< when syncVolume last re-read every charged user
  uint64_t usageFailed_ = 0;  ///< usage records Redis refused or never answered since the last log
  bool synced_ = false;
  std::optional<fleet::FleetKeyring> keyring_;  ///< in force, from Redis
  int64_t refusedVersion_ = -1;                 ///< reported once per bad version
  std::vector<policy::Secret> copied_;          ///< last written to secretsFile
  fleet::RotationLease lease_;
  int64_t started_ = 0;
  Instant lastBeat_{};
  Instant lastWrite_{};
  Instant lastRead_{};
  uint64_t sentChanges_ = ~0ull;
  bool writing_ = false;
  bool reading_ = false;
  bool fleetCounts_ = false;  ///< the QuotaBook holds other nodes' counts
  mutable std::mutex nodesMu_;
  std::vector<fleet::NodeInfo> nodes_;
  fleet::NodeSelf self_;
};

}  // namespace tw::fleet
