#pragma once
// RelayEvents -> security event log. Auth failures and peer denials are
// sampled per source IP: the first in each window is written, later ones in
// the same window are only counted and reported by the next written event of
// that source, so a flood from one address costs one line per window.
#include <optional>
#include <unordered_map>

#include "metrics/event_log.h"
#include "relay/base/clock.h"
#include "relay/turn/events.h"

namespace tw::metrics {

class SourceSampler {
 public:
  SourceSampler(Duration window, size_t maxSources) : window_(window), maxSources_(maxSources) {}
  /// nullopt: suppress this one. Otherwise write it; the value is how many
  /// of this source's events were suppressed since its last written one.
  std::optional<uint64_t> admit(const IpAddress& source, Instant now);
  /// Events suppressed because too many sources were tracked at once.
  uint64_t overflow() const { return overflow_; }

 private:
  struct Entry {
    Instant windowStart;
    uint64_t suppressed = 0;
  };
  void prune(Instant now);

  Duration window_;
  size_t maxSources_;
  std::unordered_map<IpAddress, Entry> entries_;
  uint64_t overflow_ = 0;
};

class SecurityEvents final : public turn::RelayEvents {
 public:
  SecurityEvents(EventLog& log, const Clock& clock, Duration window = std::chrono::seconds(60),
                 size_t maxSources = 10000)
      : log_(log), clock_(clock), auth_(window, maxSources), denied_(window, maxSources) {}

  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) override;
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override;
  /// Bans and revocations are rare and always written (no sampling).
  void onBanned(const SocketAddress& source, Duration banFor) override;
  void onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                     std::string_view user) override;
  /// quotas.bytes_per_user stopped an allocation (once per allocation and window).
  void onVolumeExceeded(const turn::Allocation& a, uint64_t used, uint64_t limit) override;

 private:
  EventLog& log_;
  const Clock& clock_;
  SourceSampler auth_;
  SourceSampler denied_;
};

/// "N similar events from this source were not logged" or empty.
std::string suppressedNote(uint64_t n);

}  // namespace tw::metrics
