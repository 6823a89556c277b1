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

/// Binds one listener; the error names the address (and the PEM file for TLS).
Status<std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l, Logger& log);

/// Re-reads cert/key of every TLS and DTLS listener in `listeners` and swaps them in
/// for new connections; live connections keep their session. A listener
/// whose files fail to load keeps its old certificate (logged).
void reloadTlsCertificates(io::Worker& worker, const std::vector<policy::ListenerConfig>& listeners,
                           Logger& log);

/// " udp 127.0.0.1:3478 tcp 127.0.0.1:3478 ..." for the ready line.
std::string describeListeners(io::Worker& worker);

}  // namespace tw::app
