#pragma once
// RelayEvents written to the log with reason codes. Noisy events (drops,
// auth failures, denials) go through a per-second line budget so a flood
// cannot fill the disk; what was suppressed is counted and reported.
#include <array>
#include <cstdint>

#include "relay/base/clock.h"
#include "relay/base/log.h"
#include "relay/turn/events.h"

namespace tw::turn {

class LogEvents final : public RelayEvents {
 public:
  LogEvents(Logger& log, const Clock& clock, uint32_t linesPerSecond = 50)
      : log_(log), clock_(clock), budget_(linesPerSecond) {}

  void onAllocationCreated(const Allocation& a) override;
  void onAllocationDeleted(const Allocation& a, std::string_view why) override;
  void onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple& t) override;
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) override;
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override;
  void onDrop(DropReason r, const SocketAddress& source) override;
  void onConnectAttempt(const Allocation& a, const SocketAddress& peer) override;
  void onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                     std::string_view user) override;
  void onBanned(const SocketAddress& source, Duration banFor) override;
  void onVolumeExceeded(const Allocation& a, uint64_t used, uint64_t limit) override;

  uint64_t suppressed() const { return suppressedTotal_; }

 private:
  /// True when a noisy line may be written now.
  bool admit();
  /// Builds the line only when it will be written: under a flood the
  /// budget refuses most lines, and building them would be wasted work on
  /// the packet path.
  template <class MakeLine>
  void noisy(LogLevel level, MakeLine&& makeLine) {
    if (log_.enabled(level) && admit()) log_.log(level, makeLine());
  }

  Logger& log_;
  const Clock& clock_;
  uint32_t budget_;
  int64_t windowSecond_ = -1;
  uint32_t usedInWindow_ = 0;
  uint64_t suppressedInWindow_ = 0;
  uint64_t suppressedTotal_ = 0;
};

}  // namespace tw::turn
