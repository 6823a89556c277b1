#pragma once
// Sends every RelayEvent to several sinks (the log, the metrics counters, the
// security event log), in order. The sinks outlive this object.
#include <vector>

#include "relay/turn/events.h"

namespace tw::turn {

class FanoutEvents final : public RelayEvents {
 public:
  /// `sink` gets every event; onSendTarget (once per relayed Send) goes
  /// only to sinks added with `sendTargets`, so the Send path calls just
  /// the sinks that count destinations, not every sink's empty default.
  void add(RelayEvents& sink, bool sendTargets = false) {
    sinks_.push_back(&sink);
    if (sendTargets) sendTargetSinks_.push_back(&sink);
  }

  void onAllocationCreated(const Allocation& a) override {
    for (auto* s : sinks_) s->onAllocationCreated(a);
  }
  void onAllocationDeleted(const Allocation& a, std::string_view why) override {
    for (auto* s : sinks_) s->onAllocationDeleted(a, why);
  }
  void onRequest(stun::Method m, int code, std::string_view reason, const FiveTuple& t) override {
    for (auto* s : sinks_) s->onRequest(m, code, reason, t);
  }
  void onAuthFailed(std::string_view reason, const FiveTuple& t, std::string_view user) override {
    for (auto* s : sinks_) s->onAuthFailed(reason, t, user);
  }
  void onPeerDenied(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                    std::string_view user) override {
    for (auto* s : sinks_) s->onPeerDenied(peer, rule, t, user);
  }
  void onDrop(DropReason r, const SocketAddress& source) override {
    for (auto* s : sinks_) s->onDrop(r, source);
  }
  void onConnectAttempt(const Allocation& a, const SocketAddress& peer) override {
    for (auto* s : sinks_) s->onConnectAttempt(a, peer);
  }
  void onSendTarget(const Allocation& a, const SocketAddress& peer) override {
    for (auto* s : sendTargetSinks_) s->onSendTarget(a, peer);
  }
  void onPeerRevoked(const SocketAddress& peer, std::string_view rule, const FiveTuple& t,
                     std::string_view user) override {
    for (auto* s : sinks_) s->onPeerRevoked(peer, rule, t, user);
  }
  void onBanned(const SocketAddress& source, Duration banFor) override {
    for (auto* s : sinks_) s->onBanned(source, banFor);
  }
  void onUsageInterval(const Allocation& a) override {
    for (auto* s : sinks_) s->onUsageInterval(a);
  }
  void onVolumeExceeded(const Allocation& a, uint64_t used, uint64_t limit) override {
    for (auto* s : sinks_) s->onVolumeExceeded(a, used, limit);
  }
  void onRequestDuration(stun::Method m, std::chrono::nanoseconds d) override {
    for (auto* s : sinks_) s->onRequestDuration(m, d);
  }

 private:
  std::vector<RelayEvents*> sinks_;
  std::vector<RelayEvents*> sendTargetSinks_;
};

}  // namespace tw::turn
