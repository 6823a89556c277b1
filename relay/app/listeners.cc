#include "relay/app/listeners.h"

#include <algorithm>

#include "relay/io/tls_context.h"

namespace tw::app {

Result<SocketAddress, std::string> openListener(io::Worker& worker, const policy::ListenerConfig& l,
                                                Logger& log) {
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
      return at;
  }
}

namespace {

bool sameListener(const policy::ListenerConfig& a, const policy::ListenerConfig& b) {
  return a.transport == b.transport && a.address == b.address && a.port == b.port;
}

void closeListener(io::Worker& worker, const BoundListener& l) {
  switch (l.config.transport) {
    case Transport::Udp: worker.removeUdpListener(l.bound); break;
    case Transport::Tcp:
    case Transport::Tls: worker.streams().closeListener(l.bound); break;
    case Transport::Dtls: worker.removeDtlsListener(l.bound); break;
  }
}

}  // namespace

namespace {

/// Opens `l` on every worker; the bound address, or the first error (with
/// the sockets this call opened closed again).
Result<SocketAddress, std::string> openEverywhere(WorkerPool& workers, const policy::ListenerConfig& l,
                                                  Logger& log) {
  std::optional<SocketAddress> first;
  std::optional<std::string> failed;
  size_t opened = 0;
  for (size_t i = 0; i < workers.size() && !failed; ++i) {
    policy::ListenerConfig at = l;
    if (i > 0) at.port = first->port;  // the port the first worker bound (port 0 resolved)
    bool ran = workers[i].call([&] {
      auto r = openListener(workers[i], at, log);
      if (!r) failed = r.error();
      else if (i == 0) first = r.value();
    });
    if (!ran) failed = "worker " + std::to_string(i) + " did not answer";
    if (!failed) ++opened;
  }
  if (!failed && first) return *first;
  for (size_t i = 0; i < opened; ++i)
    workers[i].call([&] { closeListener(workers[i], BoundListener{l, *first}); });
  return err(failed.value_or("no worker"));
}

}  // namespace

Result<ListenerChanges, std::string> ListenerSet::apply(
    WorkerPool& workers, const std::vector<policy::ListenerConfig>& next, Logger& log) {
  ListenerChanges changes;
  auto closeEverywhere = [&](const BoundListener& b) {
    workers.forEach([b](io::Worker& w) { closeListener(w, b); });
  };
  for (const auto& l : next) {
    if (std::any_of(bound_.begin(), bound_.end(), [&](const auto& b) { return sameListener(b.config, l); }))
      continue;
    auto at = openEverywhere(workers, l, log);
    if (!at) {
      for (const auto& opened : changes.opened) closeEverywhere(opened);
      return err(at.error());
    }
    changes.opened.push_back(BoundListener{l, at.value()});
  }
  std::vector<BoundListener> kept;
  for (auto& b : bound_) {
    auto same = std::find_if(next.begin(), next.end(), [&](const auto& n) { return sameListener(n, b.config); });
    if (same == next.end()) {
      closeEverywhere(b);
      changes.closed.push_back(std::move(b));
    } else {
      kept.push_back(BoundListener{*same, b.bound});  // new realm/cert paths, same sockets
    }
  }
  kept.insert(kept.end(), changes.opened.begin(), changes.opened.end());
  bound_ = std::move(kept);
  return changes;
}

std::string describeListeners(const std::vector<BoundListener>& listeners) {
  std::string out;
  for (const auto& l : listeners) out += " " + std::string(toString(l.config.transport)) + " " + l.bound.toString();
  return out;
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
