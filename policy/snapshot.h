#pragma once
// An immutable, validated view of the policy that the relay consults. A
// reload builds a new snapshot and swaps it in; a snapshot is never changed
// after it is built, so workers read it without locks.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/credentials.h"
#include "policy/peer_rules.h"
#include "policy/quotas.h"
#include "policy/realms.h"
#include "relay/base/clock.h"

namespace tw::policy {

struct Config;
struct CredentialsConfig;

struct LimitsPolicy {
  Duration defaultLifetime{std::chrono::minutes(10)};
  Duration maxLifetime{std::chrono::hours(1)};
  Duration permissionLifetime{std::chrono::minutes(5)};
  Duration channelLifetime{std::chrono::minutes(10)};
  uint16_t channelMin = 0x4000;
  uint16_t channelMax = 0x7FFF;
  size_t permissionsPerRequest = 16;
  size_t permissionsPerAllocation = 32;
  size_t channelsPerAllocation = 32;
};

/// The TLS and DTLS server contexts a reload built, opaque to policy/: the
/// layer rule keeps OpenSSL's SSL types and relay/io out of here, yet the
/// contexts must travel in the snapshot so that a worker takes them in the
/// same pointer swap as the rest of the reload (never half a reload).
/// relay/io defines the one concrete set (io::TlsContexts); relay/app builds
/// it; the worker casts it back when the pointer changes.
struct TlsMaterial {
  virtual ~TlsMaterial() = default;
};

struct PolicySnapshot {
  uint64_t generation = 0;
  std::string realm;
  PeerRules peers;
  Keyring keyring;
  std::vector<StaticUser> users;
  int64_t maxTtlSeconds = 86400;
  int64_t clockSkewSeconds = 300;
  LimitsPolicy limits;
  std::string software;  // empty: no SOFTWARE attribute (the default)
  QuotasConfig quotas;
  RateLimitsConfig rateLimits;
  BansConfig bans;
  /// auth.blocked_users, sorted (binary search on Allocate/Refresh).
  std::vector<std::string> blockedUsers;
  /// Listener realms and peers.realms rules (realms.h).
  RealmMap realms;
  /// relay.tcp: Allocate with REQUESTED-TRANSPORT TCP (RFC 6062) is served;
  /// otherwise it gets 442.
  bool tcpRelay = false;
  /// anomalies: detector thresholds (the hub thread) and the Send-scan
  /// window each worker rolls.
  AnomaliesConfig anomalies;
  /// transports: stream limits, applied by each worker when it takes the snapshot.
  TransportsConfig transports;
  /// credentials: (issuer, audiences, JWKS keys, ttl...) as this reload
  /// loaded them; read by the credentials endpoint's thread.
  std::shared_ptr<const CredentialsConfig> credentials;
  /// One shared SSL_CTX per TLS/DTLS listener, built once by this reload
  /// (null: none, e.g. in tests that open listeners themselves).
  std::shared_ptr<const TlsMaterial> tls;
  /// usage.interval while usage records are on (usage.file set); 0: off.
  tw::Duration usageInterval{0};
  /// ipv6_client_prefix (restart-only: every snapshot of a run has the one
  /// the tables were built with). The credentials endpoint keys its per-IP
  /// bucket with it (clientKey(), relay/base/address_key.h).
  uint8_t ipv6ClientPrefix = 64;

  bool isBlocked(std::string_view user) const;
  /// The realm of the listener a request arrived on (its REALM must match).
  const std::string& realmFor(const FiveTuple& tuple) const { return realms.realmFor(tuple); }
  /// The keyring REST credentials verify with on a listener of `realm`
  /// (auth.secrets for the top-level realm, auth.realms.REALM's otherwise),
  /// or nullptr for a realm no listener serves: no credential is valid there.
  const Keyring* keyringFor(std::string_view realm) const;
  /// The static users valid on a listener of `realm` (auth.users for the
  /// top-level realm, auth.realms.REALM.users otherwise).
  std::span<const StaticUser> usersFor(std::string_view realm) const;
  /// The peer rules for an allocation of `allocationRealm`: hard denies,
  /// then that realm's denied/allowed, then the global rules.
  PeerDecision checkPeer(std::string_view allocationRealm, const SocketAddress& peer) const;
};

/// Where workers find the current snapshot. The writer (reload) stores a new
/// snapshot, then bumps the generation; readers compare the generation with
/// one relaxed load per batch and take the lock only when it changed.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicySnapshot> initial);
  std::shared_ptr<const PolicySnapshot> load() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const PolicySnapshot> next);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const PolicySnapshot> current_;
  std::atomic<uint64_t> generation_;
};

/// Builds a snapshot from a validated config. `self` lists the server's own
/// listener (and later metrics/admin) addresses, which are never relayed to.
/// `tls`: the listeners' TLS/DTLS contexts as this reload loaded them.
std::shared_ptr<const PolicySnapshot> buildSnapshot(const Config& config, uint64_t generation,
                                                    std::vector<SocketAddress> self,
                                                    std::shared_ptr<const TlsMaterial> tls = nullptr);

}  // namespace tw::policy
