#include "policy/snapshot.h"

namespace tw::policy {

PolicyHolder::PolicyHolder(std::shared_ptr<const PolicySnapshot> initial)
    : current_(std::move(initial)), generation_(current_->generation) {}

std::shared_ptr<const PolicySnapshot> PolicyHolder::load() const {
  std::lock_guard lock(mu_);
  return current_;
}

void PolicyHolder::store(std::shared_ptr<const PolicySnapshot> next) {
  const uint64_t gen = next->generation;
  {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }
  generation_.store(gen, std::memory_order_release);
}

}  // namespace tw::policy

#include <algorithm>

#include "policy/config.h"

namespace tw::policy {

namespace {
std::vector<NamedRange> namedRanges(const std::vector<PeerRangeConfig>& in, std::string_view kind) {
  return namedPeerRanges(in, "config:" + std::string(kind));
}

LimitsPolicy limitsFrom(const LimitsConfig& l) {
  LimitsPolicy p;
  p.defaultLifetime = l.defaultAllocationLifetime;
  p.maxLifetime = l.maxAllocationLifetime;
  p.channelMin = l.channelMin();
  p.channelMax = l.channelMax();
  p.permissionsPerRequest = l.permissionsPerRequest;
  p.permissionsPerAllocation = l.permissionsPerAllocation;
  p.channelsPerAllocation = l.channelsPerAllocation;
  return p;
}
std::vector<std::string> sortedBlocked(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

PeerDecision PolicySnapshot::checkPeer(std::string_view allocationRealm, const SocketAddress& peer) const {
  return peers.check(peer, realms.layerFor(allocationRealm));
}

const Keyring* PolicySnapshot::keyringFor(std::string_view r) const {
  if (r == realm) return &keyring;
  const RealmCredentials* c = realms.credentialsFor(r);
  return c ? &c->keyring : nullptr;
}

std::span<const StaticUser> PolicySnapshot::usersFor(std::string_view r) const {
  if (r == realm) return users;
  const RealmCredentials* c = realms.credentialsFor(r);
  return c ? std::span<const StaticUser>(c->users) : std::span<const StaticUser>();
}

bool PolicySnapshot::isBlocked(std::string_view user) const {
  return std::binary_search(blockedUsers.begin(), blockedUsers.end(), user);
}

std::shared_ptr<const PolicySnapshot> buildSnapshot(const Config& config, uint64_t generation,
                                                    std::vector<SocketAddress> self,
                                                    std::shared_ptr<const TlsMaterial> tls) {
  return std::make_shared<const PolicySnapshot>(PolicySnapshot{
      generation,
      config.realm,
      PeerRules(namedRanges(config.peers.allowed, "allowed"), namedRanges(config.peers.denied, "denied"),
                config.peers.defaultDeny, std::move(self)),
      Keyring(config.auth.secrets),
      config.auth.users,
      config.auth.maxTtlSeconds,
      config.auth.clockSkewSeconds,
      limitsFrom(config.limits),
      config.server.software.value_or(""),
      config.quotas,
      config.rateLimits,
      config.bans,
      sortedBlocked(config.auth.blockedUsers),
      buildRealmMap(config),
      config.relay.tcp,
      config.anomalies,
      config.transports,
      std::make_shared<const CredentialsConfig>(config.credentials),
      std::move(tls),
      config.usage.file.empty() ? tw::Duration{0} : config.usage.interval,
      config.ipv6ClientPrefix,
  });
}

}  // namespace tw::policy
