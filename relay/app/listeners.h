#pragma once
// Opens the configured listeners on a worker (UDP, TCP, TLS) and reloads TLS
// certificates on SIGHUP. Kept apart from ServerApp so each transport adds
// its case here rather than in the start-up sequence.
#include <string>
#include <vector>

#include "policy/config.h"
#include "relay/base/log.h"
#include "relay/base/result.h"
#include "relay/app/worker_pool.h"
#include "relay/io/worker.h"

namespace tw::app {

/// Binds one listener; returns its bound address (port 0 resolved). The
/// error names the address and errno (and the PEM file for TLS/DTLS).
Result<SocketAddress, std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l,
                                                Logger& log);

/// A configured listener and the address it is bound to.
struct BoundListener {
  policy::ListenerConfig config;
  SocketAddress bound;
};

/// What a reload changed in the listener set.
struct ListenerChanges {
  std::vector<BoundListener> opened;
  std::vector<BoundListener> closed;
};

/// The listeners the workers run, keyed by (transport, address, configured
/// port), so a reload opens and closes only those that changed: an unchanged
/// listener keeps its sockets and everything live on them. Every listener
/// has one SO_REUSEPORT socket on every worker: the first worker binds it
/// (resolving port 0), the others bind the same address and port. Ports are
/// compared as configured, not as bound.
class ListenerSet {
 public:
  /// Makes the running set `next` on every worker (each on its own loop
  /// thread). New listeners are opened first; if one fails on any worker,
  /// every socket opened by this call is closed again and its error is
  /// returned, with nothing changed. Then removed listeners are closed on
  /// every worker: UDP and DTLS ones end their allocations
  /// ("listener_removed"); TCP/TLS connections already accepted run on.
  Result<ListenerChanges, std::string> apply(WorkerPool& workers,
                                             const std::vector<policy::ListenerConfig>& next,
                                             Logger& log);
  const std::vector<BoundListener>& bound() const { return bound_; }

 private:
  std::vector<BoundListener> bound_;
};

/// " tcp 127.0.0.1:3479 udp 127.0.0.1:3480" (bound addresses) for reload logs.
std::string describeListeners(const std::vector<BoundListener>& listeners);

/// Re-reads cert/key of every TLS and DTLS listener in `listeners` and swaps them in
/// for new connections; live connections keep their session. A listener
/// whose files fail to load keeps its old certificate (logged).
void reloadTlsCertificates(io::Worker& worker, const std::vector<policy::ListenerConfig>& listeners,
                           Logger& log);

/// " udp 127.0.0.1:3478 tcp 127.0.0.1:3478 ..." for the ready line (what
/// each worker listens on; call on its loop thread).
std::string describeListeners(io::Worker& worker);

}  // namespace tw::app
