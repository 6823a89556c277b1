#include "metrics/security_events.h"

#include "relay/turn/allocation.h"

namespace tw::metrics {

void SourceSampler::prune(Instant now) {
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.windowStart >= window_; });
}

std::optional<uint64_t> SourceSampler::admit(const IpAddress& source, Instant now) {
  auto it = entries_.find(source);
  if (it == entries_.end()) {
    if (entries_.size() >= maxSources_) prune(now);
    if (entries_.size() >= maxSources_) {
      ++overflow_;
      return std::nullopt;
    }
    entries_.emplace(source, Entry{now, 0});
    return 0;
  }
  Entry& e = it->second;
  if (now - e.windowStart < window_) {
    ++e.suppressed;
    return std::nullopt;
  }
  const uint64_t n = e.suppressed;
  e = Entry{now, 0};
  return n;
}

std::string suppressedNote(uint64_t n) {
  if (n == 0) return {};
  return std::to_string(n) + " similar events from this source were not logged (sampling)";
}

void SecurityEvents::onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) {
  auto n = auth_.admit(t.client.ip, clock_.now());
  if (!n) return;
  log_.push(SecurityEvent{"auth_failure", "warning", std::string(username), t.client.ip.toString(), "",
                          std::string(reason), suppressedNote(*n)});
}

void SecurityEvents::onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                                  std::string_view user) {
  auto n = denied_.admit(t.client.ip, clock_.now());
  if (!n) return;
  log_.push(SecurityEvent{"peer_denied", "warning", std::string(user), t.client.ip.toString(),
                          peer.toString(), std::string(rule), suppressedNote(*n)});
}

void SecurityEvents::onBanned(const SocketAddress& source, Duration banFor) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(banFor).count();
  log_.push(SecurityEvent{"ban", "critical", "", source.ip.toString(), "", "bans.failed_auth",
                          "source port " + std::to_string(source.port) + " banned for " +
                              std::to_string(secs) + "s after repeated failed authentications"});
}

void SecurityEvents::onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                                   std::string_view user) {
  log_.push(SecurityEvent{"peer_revoked", "warning", std::string(user), t.client.ip.toString(),
                          peer.toString(), std::string(rule),
                          "a reload's peer rules revoked a live permission"});
}

void SecurityEvents::onVolumeExceeded(const turn::Allocation& a, uint64_t used, uint64_t limit) {
  log_.push(SecurityEvent{
      "volume_exceeded", "warning", a.user, a.tuple.client.ip.toString(), "", "quotas.bytes_per_user",
      std::to_string(used) + " bytes relayed in this window, over the limit of " + std::to_string(limit) +
          "; allocation " + std::to_string(a.id) + " stopped relaying"});
}

}  // namespace tw::metrics
