#pragma once
// Opens the configured listeners on the workers (UDP, TCP, TLS, DTLS) and
// loads the TLS/DTLS contexts, once per listener per reload, that the
// policy snapshot carries to every worker. Kept apart from ServerApp so each
// transport adds its case here rather than in the start-up sequence.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/config.h"
#include "relay/app/worker_pool.h"
#include "relay/base/log.h"
#include "relay/base/result.h"
#include "relay/io/tls_context.h"
#include "relay/io/worker.h"

namespace tw::app {

/// Binds one listener on `worker`; returns its bound address (port 0
/// resolved). `tls`: the context of a TLS or DTLS listener (loadContext),
/// shared by its socket on every worker. The error names the address and errno.
Result<SocketAddress, std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l,
                                                io::SharedSslCtx tls, Logger& log);

/// A TLS or DTLS listener's context from its PEM files (null for UDP and
/// TCP); the error names the file and OpenSSL's reason.
Result<io::SharedSslCtx, std::string> loadContext(const policy::ListenerConfig& l);

/// A configured listener, the address it is bound to and, for TLS and
/// DTLS, the context its sockets on every worker give new handshakes.
struct BoundListener {
  policy::ListenerConfig config;
  SocketAddress bound;
  io::SharedSslCtx tls;
};

/// A kept TLS/DTLS listener whose files a reload read again: error empty
/// when its new context is in use, else why it keeps the old one.
struct CertificateReload {
  BoundListener listener;
  std::optional<std::string> error;
};

/// What a reload changed in the listener set.
struct ListenerChanges {
  std::vector<BoundListener> opened;
  std::vector<BoundListener> closed;
  std::vector<CertificateReload> certificates;
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
  /// Every TLS/DTLS listener's PEM files are read once here: a new listener
  /// whose files fail fails the call; a kept one keeps its old context
  /// (reported in `certificates`, for logging once the snapshot is out).
  Result<ListenerChanges, std::string> apply(WorkerPool& workers,
                                             const std::vector<policy::ListenerConfig>& next, Logger& log);
  const std::vector<BoundListener>& bound() const { return bound_; }
  /// The contexts of the bound TLS/DTLS listeners as the last apply left
  /// them, for the policy snapshot: a new set per apply, shared by all
  /// workers, never changed after.
  std::shared_ptr<const io::TlsContexts> tlsContexts() const { return tls_; }

 private:
  std::vector<BoundListener> bound_;
  std::shared_ptr<const io::TlsContexts> tls_;
};

/// " tcp 127.0.0.1:3479 udp 127.0.0.1:3480" (bound addresses) for reload logs.
std::string describeListeners(const std::vector<BoundListener>& listeners);

/// Logs what a reload did to each kept TLS/DTLS listener's certificate:
/// call after the snapshot carrying the new contexts is published.
void logCertificates(const std::vector<CertificateReload>& reloaded, Logger& log);

/// " udp 127.0.0.1:3478 tcp 127.0.0.1:3478 ..." for the ready line (what
/// each worker listens on; call on its loop thread).
std::string describeListeners(io::Worker& worker);

}  // namespace tw::app
