#include "relay/app/listeners.h"

#include <algorithm>

#include "relay/io/dtls_listener.h"

namespace tw::app {

Result<io::SharedSslCtx, std::string> loadContext(const policy::ListenerConfig& l) {
  if (l.transport == Transport::Dtls) return io::DtlsListener::makeContext(l.cert, l.key);
  if (l.transport != Transport::Tls) return io::SharedSslCtx();
  auto ctx = io::makeServerTlsContext(l.cert, l.key);
  if (!ctx) return err(ctx.error());
  return io::SharedSslCtx(std::move(ctx.value()));
}

Result<SocketAddress, std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l,
                                                io::SharedSslCtx tls, Logger& log) {
  const SocketAddress at{l.address, l.port};
  switch (l.transport) {
    case Transport::Udp:
      return worker.addUdpListener(at);
    case Transport::Tcp:
      return worker.streams().listen(at, nullptr, l.proxyProtocol);
    case Transport::Tls:
      return worker.streams().listen(at, std::move(tls), l.proxyProtocol);
    case Transport::Dtls:
      return worker.addDtlsListener(at, std::move(tls));
    default:
      log.warn("listener " + at.toString() + " transport " + std::string(toString(l.transport)) +
               " is not supported yet; skipped");
      return at;
  }
}

namespace {

/// proxy_protocol is a property of the socket: flipping it opens a new one
/// (SO_REUSEPORT, same port) before the old one closes.
bool sameListener(const policy::ListenerConfig& a, const policy::ListenerConfig& b) {
  return a.transport == b.transport && a.address == b.address && a.port == b.port &&
         a.proxyProtocol == b.proxyProtocol;
}

void closeListener(io::Worker& worker, const BoundListener& l) {
  switch (l.config.transport) {
    case Transport::Udp:
      worker.removeUdpListener(l.bound);
      break;
    case Transport::Tcp:
    case Transport::Tls:
      worker.streams().closeListener(l.bound, l.config.proxyProtocol);
      break;
    case Transport::Dtls:
      worker.removeDtlsListener(l.bound);
      break;
  }
}

/// Opens `l` on every worker, all with the one context `tls`; the bound
/// address, or the first error (with the sockets this call opened closed again).
Result<SocketAddress, std::string> openEverywhere(WorkerPool& workers, const policy::ListenerConfig& l,
                                                  const io::SharedSslCtx& tls, Logger& log) {
  std::optional<SocketAddress> first;
  std::optional<std::string> failed;
  size_t opened = 0;
  for (size_t i = 0; i < workers.size() && !failed; ++i) {
    policy::ListenerConfig at = l;
    if (i > 0) at.port = first->port;  // the port the first worker bound (port 0 resolved)
    bool ran = workers[i].call([&] {
      auto r = openListener(workers[i], at, tls, log);
      if (!r)
        failed = r.error();
      else if (i == 0)
        first = r.value();
    });
    if (!ran) failed = "worker " + std::to_string(i) + " did not answer";
    if (!failed) ++opened;
  }
  if (!failed && first) return *first;
  for (size_t i = 0; i < opened; ++i)
    workers[i].call([&] { closeListener(workers[i], BoundListener{l, *first, nullptr}); });
  return err(failed.value_or("no worker"));
}

/// Loads the context of a new listener, then opens it everywhere.
Result<BoundListener, std::string> openNew(WorkerPool& workers, const policy::ListenerConfig& l,
                                           Logger& log) {
  auto tls = loadContext(l);
  if (!tls) {
    return err(std::string(toString(l.transport)) + " listener " +
               SocketAddress{l.address, l.port}.toString() + ": " + tls.error());
  }
  auto at = openEverywhere(workers, l, tls.value(), log);
  if (!at) return err(at.error());
  return BoundListener{l, at.value(), std::move(tls.value())};
}

/// A kept listener with `next`'s settings and, for TLS/DTLS, a context read
/// again from its files, or its old one when they fail (`report`).
BoundListener keep(const BoundListener& old, const policy::ListenerConfig& next,
                   std::vector<CertificateReload>& report) {
  BoundListener kept{next, old.bound, old.tls};  // new realm/cert paths, same sockets
  if (!old.tls) return kept;
  auto tls = loadContext(next);
  if (tls) kept.tls = std::move(tls.value());
  report.push_back(CertificateReload{kept, tls ? std::nullopt : std::optional(tls.error())});
  return kept;
}

std::shared_ptr<const io::TlsContexts> contextsOf(const std::vector<BoundListener>& bound) {
  std::vector<io::TlsContexts::Entry> entries;
  for (const auto& b : bound)
    if (b.tls) entries.push_back({b.config.transport, b.bound, b.tls});
  return std::make_shared<const io::TlsContexts>(std::move(entries));
}

}  // namespace

Result<ListenerChanges, std::string> ListenerSet::apply(WorkerPool& workers,
                                                        const std::vector<policy::ListenerConfig>& next,
                                                        Logger& log) {
  ListenerChanges changes;
  auto closeEverywhere = [&](const BoundListener& b) {
    workers.forEach([b](io::Worker& w) { closeListener(w, b); });
  };
  for (const auto& l : next) {
    if (std::any_of(bound_.begin(), bound_.end(), [&](const auto& b) { return sameListener(b.config, l); }))
      continue;
    auto opened = openNew(workers, l, log);
    if (!opened) {
      for (const auto& o : changes.opened) closeEverywhere(o);
      return err(opened.error());
    }
    changes.opened.push_back(std::move(opened.value()));
  }
  std::vector<BoundListener> kept;
  for (auto& b : bound_) {
    auto same =
        std::find_if(next.begin(), next.end(), [&](const auto& n) { return sameListener(n, b.config); });
    if (same == next.end()) {
      closeEverywhere(b);
      changes.closed.push_back(std::move(b));
    } else {
      kept.push_back(keep(b, *same, changes.certificates));
    }
  }
  kept.insert(kept.end(), changes.opened.begin(), changes.opened.end());
  bound_ = std::move(kept);
  tls_ = contextsOf(bound_);
  return changes;
}

std::string describeListeners(const std::vector<BoundListener>& listeners) {
  std::string out;
  for (const auto& l : listeners)
    out += " " + std::string(toString(l.config.transport)) + " " + l.bound.toString();
  return out;
}

void logCertificates(const std::vector<CertificateReload>& reloaded, Logger& log) {
  for (const auto& r : reloaded) {
    const std::string which =
        std::string(toString(r.listener.config.transport)) + " " + r.listener.bound.toString();
    if (r.error) {
      log.error("reload: keeping the old certificate of " + which + ": " + *r.error);
    } else {
      log.info("reload: new certificate for " + which + " (live " +
               (r.listener.config.transport == Transport::Dtls ? "sessions" : "connections") + " kept)");
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
