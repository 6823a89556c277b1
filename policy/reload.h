#pragma once
// Which parts of the configuration a reload (SIGHUP, admin API) changes in a
// running server, in one place. Everything in the policy snapshot is
// reloadable: realm, listeners, auth (keyring, users, blocked users), peers,
// limits, relay.tcp, server, transports (stream limits), quotas,
// rate_limits, bans, anomalies, and TLS/DTLS certificates. The rest needs a
// restart, because threads, sockets or files were set up from it:
//
//   workers        the worker threads
//   ipv6_client_prefix  the per-client keys of the rate-limit, ban and quota
//                  tables (a quota released must be keyed as it was acquired)
//   relay          relay addresses, external address, port range (port pools)
//   log            the logger
//   metrics        the metrics listener
//   events         the event log file and queue
//   admin          the admin listener and token
//   fleet          the Redis connection, node id and heartbeat (and, in a
//                  fleet, the keyring: it comes from Redis, not the file)
#include <string>
#include <vector>

#include "policy/config.h"

namespace tw::policy {

struct ReloadPlan {
  /// `next` with the restart-only sections of the running config.
  Config config;
  /// Restart-only keys whose new value is not applied ("relay", "workers"...).
  std::vector<std::string> restartOnly;
};

ReloadPlan planReload(const Config& running, Config next);

}  // namespace tw::policy
