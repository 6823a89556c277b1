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

#include "policy/config.h"

#include <algorithm>

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

PeerDecision PolicySnapshot::checkPeer(std::string_view allocationRealm,
                                       const SocketAddress& peer) const {
  return peers.check(peer, realms.layerFor(allocationRealm));
}

bool PolicySnapshot::isBlocked(std::string_view user) const {
  return std::binary_search(blockedUsers.begin(), blockedUsers.end(), user);
}

std::shared_ptr<const PolicySnapshot> buildSnapshot(const Config& config, uint64_t generation,
                                                    std::vector<SocketAddress> self,
                                                    std::shared_ptr<const TlsMaterial> tls) {
  return std::make_shared<const PolicySnapshot>(PolicySnapshot{
      .generation = generation,
      .realm = config.realm,
      .peers = PeerRules(namedRanges(config.peers.allowed, "allowed"),
                         namedRanges(config.peers.denied, "denied"), config.peers.defaultDeny,
                         std::move(self)),
      .keyring = Keyring(config.auth.secrets),
      .users = config.auth.users,
      .maxTtlSeconds = config.auth.maxTtlSeconds,
      .clockSkewSeconds = config.auth.clockSkewSeconds,
      .limits = limitsFrom(config.limits),
      .software = config.server.software.value_or(""),
      .quotas = config.quotas,
      .rateLimits = config.rateLimits,
      .bans = config.bans,
      .blockedUsers = sortedBlocked(config.auth.blockedUsers),
      .realms = buildRealmMap(config),
      .tcpRelay = config.relay.tcp,
      .anomalies = config.anomalies,
      .transports = config.transports,
      .credentials = std::make_shared<const CredentialsConfig>(config.credentials),
      .tls = std::move(tls),
  });
}

}  // namespace tw::policy
