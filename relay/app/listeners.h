#pragma once
// Opens the configured listeners on a worker (UDP, TCP, TLS) and reloads TLS
// certificates on SIGHUP. Kept apart from ServerApp so each transport adds
// its case here rather than in the start-up sequence.
#include <string>
#include <vector>

#include "policy/config.h"
#include "relay/base/log.h"
#include "relay/base/result.h"
#include "relay/io/worker.h"

namespace tw::app {

/// The worker-side limits of stream connections from `transports:`.
io::StreamLimits streamLimits(const policy::TransportsConfig& t);

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

/// The listeners a worker runs, keyed by (transport, address, configured
/// port), so a reload opens and closes only those that changed: an unchanged
/// listener keeps its socket and everything live on it. Ports are compared
/// as configured, not as bound (config refuses port 0 today; the in-process
/// APIs accept it).
class ListenerSet {
 public:
  /// Makes the running set `next`. New listeners are opened first; if one
  /// fails, those opened by this call are closed again and its error is
  /// returned, with nothing changed. Then removed listeners are closed:
  /// UDP and DTLS ones end their allocations ("listener_removed"); TCP/TLS
  /// connections already accepted run on until they close.
  Result<ListenerChanges, std::string> apply(io::Worker& worker,
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

/// " udp 127.0.0.1:3478 tcp 127.0.0.1:3478 ..." for the ready line.
std::string describeListeners(io::Worker& worker);

}  // namespace tw::app
