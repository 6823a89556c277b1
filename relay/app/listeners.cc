#include "relay/app/listeners.h"

#include "relay/io/tls_context.h"

namespace tw::app {

io::StreamLimits streamLimits(const policy::TransportsConfig& t) {
  io::StreamLimits s;
  s.maxFrameBytes = t.streamBufferBytes;
  s.maxConnectionsPerIp = t.maxConnectionsPerIp;
  s.outputHighWatermark = t.streamOutputBytes;
  s.idleTimeout = t.idleTimeout;
  s.handshakeTimeout = t.handshakeTimeout;
  s.peerBufferBytes = t.tcpRelayBufferBytes;
  return s;
}

Status<std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l, Logger& log) {
  const SocketAddress at{l.address, l.port};
  switch (l.transport) {
    case Transport::Udp: return worker.addUdpListener(at);
    case Transport::Tcp: return worker.streams().listen(at);
    case Transport::Tls: {
      auto ctx = io::makeServerTlsContext(l.cert, l.key);
      if (!ctx) return err("tls listener " + at.toString() + ": " + ctx.error());
      return worker.streams().listen(at, std::move(ctx.value()));
    }
    case Transport::Dtls: return worker.addDtlsListener(at, l.cert, l.key);
    default:
      log.warn("listener " + at.toString() + " transport " + std::string(toString(l.transport)) +
               " is not supported yet; skipped");
      return {};
  }
}

namespace {

void reloadDtlsCertificate(io::Worker& worker, const policy::ListenerConfig& l, Logger& log) {
  for (const auto& d : worker.dtlsListeners()) {
    if (d->local().ip != l.address || (l.port && d->local().port != l.port)) continue;
    if (auto st = d->reloadCertificate(l.cert, l.key); !st) {
      log.error("reload: keeping the old certificate of dtls " + d->local().toString() + ": " + st.error());
    } else {
      log.info("reload: new certificate for dtls " + d->local().toString() + " (live sessions kept)");
    }
  }
}

}  // namespace

void reloadTlsCertificates(io::Worker& worker, const std::vector<policy::ListenerConfig>& listeners,
                           Logger& log) {
  for (const auto& l : listeners) {
    if (l.transport == Transport::Dtls) reloadDtlsCertificate(worker, l, log);
    if (l.transport != Transport::Tls) continue;
    const SocketAddress at{l.address, l.port};
    auto ctx = io::makeServerTlsContext(l.cert, l.key);
    if (!ctx) {
      log.error("reload: keeping the old certificate of " + at.toString() + ": " + ctx.error());
      continue;
    }
    // Port 0 in the config means "any": match the bound listener of that address.
    for (const auto& [bound, transport] : worker.streams().addresses()) {
      if (transport != Transport::Tls || bound.ip != at.ip || (at.port && bound.port != at.port))
        continue;
      worker.streams().replaceTlsContext(bound, std::move(ctx.value()));
      log.info("reload: new certificate for tls " + bound.toString() + " (live connections kept)");
      break;
    }
  }
}

std::string describeListeners(io::Worker& worker) {
  std::string where;
  for (const auto& a : worker.listenerAddresses()) where += " udp " + a.toString();
  for (const auto& [a, t] : worker.streams().addresses())
    where += " " + std::string(toString(t)) + " " + a.toString();
  for (const auto& d : worker.dtlsListeners()) where += " dtls " + d->local().toString();
  return where;
}

}  // namespace tw::app
