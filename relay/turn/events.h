#pragma once
// Lifecycle and security events leave the core through this interface, so
// logging, the security event log and Prometheus attach from outside and
// relay/ never includes prometheus-cpp.
#include <chrono>
#include <string_view>

#include "relay/base/address.h"
#include "relay/base/clock.h"
#include "relay/stun/message.h"
#include "relay/turn/counters.h"

namespace tw::turn {

struct Allocation;

class RelayEvents {
 public:
  virtual ~RelayEvents() = default;
  virtual void onAllocationCreated(const Allocation&) {}
  /// why: "expired", "deleted" (LIFETIME=0), "shutdown".
  virtual void onAllocationDeleted(const Allocation&, std::string_view /*why*/) {}
  /// code 0 means success; reason is a short machine-readable code.
  virtual void onRequest(stun::Method, int /*code*/, std::string_view /*reason*/, const FiveTuple&) {}
  /// reason: a policy::AuthFailure name; username is untrusted text.
  virtual void onAuthFailed(std::string_view /*reason*/, const FiveTuple&, std::string_view /*username*/) {}
  virtual void onPeerDenied(const SocketAddress& /*peer*/, std::string_view /*rule*/, const FiveTuple&,
                            std::string_view /*user*/) {}
  virtual void onDrop(DropReason, const SocketAddress& /*source*/) {}
  /// A Connect (RFC 6062) from allocation `a` to a well-formed `peer`,
  /// before the rules and limits decide: the relay_scan detector counts
  /// distinct peers per allocation.
  virtual void onConnectAttempt(const Allocation& /*a*/, const SocketAddress& /*peer*/) {}
  /// A Send indication from allocation `a` to `peer` passed its permission
  /// and the peer rules (before the bandwidth cap and the send itself): the
  /// relay_scan detector counts distinct Send destinations per allocation.
  /// Once per relayed Send, on the packet path: a sink must be O(1) and
  /// allocation-free, and fan-outs call only the sinks that ask for it.
  virtual void onSendTarget(const Allocation& /*a*/, const SocketAddress& /*peer*/) {}
  /// A reload's peer rules revoked a live permission or channel to `peer`.
  virtual void onPeerRevoked(const SocketAddress& /*peer*/, std::string_view /*rule*/, const FiveTuple&,
                             std::string_view /*user*/) {}
  /// `source` (IP and port) crossed bans.failed_auth and is banned for `banFor`.
  virtual void onBanned(const SocketAddress& /*source*/, Duration /*banFor*/) {}
  /// usage.interval passed (the worker's tick): `a`'s counters as they are
  /// now, for an interim usage record (docs/usage.md). Its final record comes
  /// from onAllocationDeleted.
  virtual void onUsageInterval(const Allocation& /*a*/) {}
  /// quotas.bytes_per_user: `a`'s user has relayed `used` bytes in this
  /// window, over `limit`; `a` stopped relaying (within one 1 s tick).
  virtual void onVolumeExceeded(const Allocation& /*a*/, uint64_t /*used*/, uint64_t /*limit*/) {}
  /// Wall time one request spent in the pipeline (decode excluded), for the
  /// request_duration_seconds histogram.
  virtual void onRequestDuration(stun::Method, std::chrono::nanoseconds) {}
};

}  // namespace tw::turn
