#include "relay/turn/log_events.h"

#include "relay/turn/allocation.h"

namespace tw::turn {

bool LogEvents::admit() {
  const int64_t sec =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  if (sec != windowSecond_) {
    if (suppressedInWindow_ > 0)
      log_.warn("log budget: suppressed " + std::to_string(suppressedInWindow_) +
                " event lines in the last second");
    windowSecond_ = sec;
    usedInWindow_ = 0;
    suppressedInWindow_ = 0;
  }
  if (usedInWindow_ >= budget_) {
    ++suppressedInWindow_;
    ++suppressedTotal_;
    return false;
  }
  ++usedInWindow_;
  return true;
}

void LogEvents::onAllocationCreated(const Allocation& a) {
  if (!log_.enabled(LogLevel::Info)) return;  // the line is not built to be dropped
  log_.info("allocation created id=" + std::to_string(a.id) + " user=\"" + sanitize(a.user) +
            "\" client=" + a.tuple.client.toString() +
            " transport=" + std::string(toString(a.tuple.transport)) + " relayed=" + a.advertised.toString());
}

void LogEvents::onAllocationDeleted(const Allocation& a, std::string_view why) {
  if (!log_.enabled(LogLevel::Info)) return;
  log_.info("allocation deleted id=" + std::to_string(a.id) + " reason=" + std::string(why) +
            " to_peer_bytes=" + std::to_string(a.bytesToPeer) +
            " to_client_bytes=" + std::to_string(a.bytesToClient));
}

void LogEvents::onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple& t) {
  if (code == 0) return;
  noisy(LogLevel::Info, [&] {
    return "reject method=" + std::string(stun::toString(m)) + " code=" + std::to_string(code) +
           " reason=" + std::string(reason) + " client=" + t.client.toString();
  });
}

void LogEvents::onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view username) {
  noisy(LogLevel::Info, [&] {
    return "auth failed reason=" + std::string(reason) + " client=" + t.client.toString() + " username=\"" +
           sanitize(username) + "\"";
  });
}

void LogEvents::onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                             std::string_view user) {
  noisy(LogLevel::Warn, [&] {
    return "peer denied peer=" + peer.toString() + " rule=\"" + sanitize(rule) +
           "\" client=" + t.client.toString() + " user=\"" + sanitize(user) + "\"";
  });
}

void LogEvents::onDrop(DropReason r, const SocketAddress& source) {
  noisy(LogLevel::Info,
        [&] { return "drop reason=" + std::string(toString(r)) + " source=" + source.toString(); });
}

void LogEvents::onConnectAttempt(const Allocation& a, const SocketAddress& peer) {
  noisy(LogLevel::Debug, [&] {
    return "connect attempt id=" + std::to_string(a.id) + " peer=" + peer.toString() +
           " client=" + a.tuple.client.toString();
  });
}

void LogEvents::onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                              std::string_view user) {
  // Not budgeted: one line per revoked permission/channel, once per reload.
  log_.warn("reload revoked peer=" + peer.toString() + " rule=\"" + sanitize(rule) +
            "\" client=" + t.client.toString() + " user=\"" + sanitize(user) + "\"");
}

void LogEvents::onBanned(const SocketAddress& source, Duration banFor) {
  log_.warn("banned ip=" + source.ip.toString() + " port=" + std::to_string(source.port) +
            " for=" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(banFor).count()) +
            "s reason=failed_auth");
}

void LogEvents::onVolumeExceeded(const Allocation& a, uint64_t used, uint64_t limit) {
  log_.warn("volume limit: allocation " + std::to_string(a.id) + " user=\"" + sanitize(a.user) +
            "\" stopped relaying: " + std::to_string(used) + " bytes in this window, limit " +
            std::to_string(limit) + " (quotas.bytes_per_user)");
}

}  // namespace tw::turn
