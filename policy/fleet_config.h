#pragma once
// fleet: many turnwarden nodes sharing keyring, bans, quotas and admin
// actions through Redis (docs/fleet.md). Absent: the node runs alone.
#include <cstdint>
#include <optional>
#include <string>

#include "relay/base/clock.h"
#include "relay/base/result.h"

namespace tw::policy {

struct FleetRedisConfig {
  /// An IP address or DNS name (a Kubernetes Service) and a port.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// Absolute path of a file (mode 0600) holding the Redis AUTH password;
  /// empty = no AUTH.
  std::string passwordFile;
  int db = 0;
};

struct FleetConfig {
  FleetRedisConfig redis;
  /// [A-Za-z0-9._-]{1,64}; empty = "auto" (the host name, made safe).
  std::string nodeId;
  /// How often a node refreshes its registry entry, quota share and the
  /// rotation lease; a node silent for 1.5 heartbeats stops counting.
  tw::Duration heartbeat = std::chrono::seconds(2);
};

/// Why `id` is not a valid fleet node id, or nullopt.
std::optional<std::string> checkNodeId(std::string_view id);

/// The node id for `fleet.node_id: auto`: `hostName` with every character
/// outside [A-Za-z0-9._-] replaced by '-', cut to 64 bytes; "node" if empty.
std::string autoNodeId(std::string_view hostName);

/// The Redis AUTH password from fleet.redis.password_file: a regular file
/// with no group/other permission bits, 1-512 bytes after trimming
/// surrounding whitespace. The error never contains the file's content.
tw::Result<std::string, std::string> readFleetPassword(const std::string& path);

}  // namespace tw::policy
