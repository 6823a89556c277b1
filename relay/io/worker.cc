#include "relay/io/worker.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "relay/io/udp_socket.h"

namespace tw::io {

namespace {
/// TCP relay listeners share the RelayHandle space with UDP relay sockets.
constexpr turn::RelayHandle kTcpHandle = 0x40000000;
bool isTcpHandle(turn::RelayHandle h) { return h >= 0 && (h & kTcpHandle) != 0; }

template <class T>
T* findCovering(const std::unordered_map<SocketAddress, T*>& index, const SocketAddress& server) {
  if (auto it = index.find(server); it != index.end()) return it->second;
  const SocketAddress any{server.ip.isV4() ? IpAddress::v4(0) : IpAddress::v6(std::array<uint8_t, 16>{}),
                          server.port};
  auto it = index.find(any);
  return it == index.end() ? nullptr : it->second;
}
}  // namespace

StreamLimits streamLimits(const policy::TransportsConfig& t) {
  StreamLimits s;
  s.maxFrameBytes = t.streamBufferBytes;
  s.maxConnectionsPerIp = t.maxConnectionsPerIp;
  s.outputHighWatermark = t.streamOutputBytes;
  s.idleTimeout = t.idleTimeout;
  s.handshakeTimeout = t.handshakeTimeout;
  s.peerBufferBytes = t.tcpRelayBufferBytes;
  return s;
}

Worker::Worker(WorkerDeps deps) : deps_(deps) {
  auto snapshot = deps_.policy.load();
  policyGeneration_ = snapshot->generation;
  server_ = std::make_unique<turn::TurnServer>(
      turn::ServerDeps{deps_.clock, rng_, *this, deps_.events, deps_.relays, deps_.nonces,
                       deps_.shared, deps_.id},
      std::move(snapshot));
  tick_.reset(event_new(base(), -1, EV_PERSIST, &Worker::onTick, this));
  const timeval second{1, 0};
  event_add(tick_.get(), &second);
  flush_.reset(event_new(base(), -1, 0, &Worker::onFlush, this));
  sends_ = std::make_unique<SendBatch>(deps_.io.sendBatch == policy::SendBatching::Gso);
  openRings();
  streams_ = std::make_unique<StreamConnections>(
      base(), deps_.clock, deps_.log,
      [this](const FiveTuple& t, std::span<const uint8_t> frame) { server_->onClientDatagram(t, frame); },
      [this](const FiveTuple& t) { server_->onConnectionClosed(t); });
  tcp_ = std::make_unique<TcpRelay>(base(), deps_.log, tcpRelayCallbacks());
  setStreamLimits(streamLimits(server_->policy().transports));
}

void Worker::openRings() {
  using policy::UringUse;
  const UringUse mode = deps_.io.uring;
  std::string why;
  if (mode != UringUse::Off && deps_.io.sendBatch != policy::SendBatching::Off) {
    uringSend_ = UringSender::open(256, why);
    if (uringSend_) sends_->useRing(uringSend_.get());
  }
  if (mode == UringUse::Auto && uringSend_) {
    uringRecv_ = UringReceiver::open(why);
    if (uringRecv_) {
      ringEv_.reset(event_new(base(), uringRecv_->fd(), EV_READ | EV_PERSIST, &Worker::onRingReadable, this));
      event_add(ringEv_.get(), nullptr);
    }
  }
  if (deps_.id.index != 0) return;  // one line for the process
  if (mode == UringUse::Off) deps_.log.info("io: io_uring off (io.uring: off): epoll, recvmmsg, sendmmsg");
  else if (!uringSend_ || (mode == UringUse::Auto && !uringRecv_))
    deps_.log.warn("io: io_uring unavailable (" + why + "): epoll, recvmmsg, sendmmsg instead");
  else
    deps_.log.info(std::string("io: io_uring for UDP sends") +
                   (uringRecv_ ? " and relay-socket receives (multishot)" : ""));
}

void Worker::onRingReadable(evutil_socket_t, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  w->uringRecv_->reap(w->ringHandler_);
}

Worker::RelaySlot* Worker::slotFor(uint64_t token) const {
  const auto h = static_cast<size_t>(token & 0xFFFFFFFFu);
  if (h >= relays_.size() || !relays_[h] || relays_[h]->token != token) return nullptr;
  return relays_[h].get();
}

void Worker::RingHandler::onDatagram(uint64_t token, const SocketAddress& source,
                                     std::span<const uint8_t> payload, bool truncated) {
  if (const RelaySlot* slot = worker.slotFor(token))
    worker.deliverPeerDatagram(slot->allocationId, source, payload, truncated);
}

int Worker::RingHandler::fdFor(uint64_t token) {
  const RelaySlot* slot = worker.slotFor(token);
  return slot ? slot->fd.get() : -1;
}

void Worker::RingHandler::onReceiveFailed(uint64_t token, int error) {
  RelaySlot* slot = worker.slotFor(token);
  if (!slot) return;
  worker.deps_.log.warn("io: io_uring receive on a relay socket ended (" + std::string(std::strerror(error)) +
                        "): that socket is read through epoll from now on");
  slot->viaRing = false;
  event_add(slot->ev.get(), nullptr);
}

TcpRelayCallbacks Worker::tcpRelayCallbacks() {
  TcpRelayCallbacks cb;
  cb.accepted = [this](uint64_t allocationId, const SocketAddress& peer) {
    return server_->onTcpPeerAccepted(allocationId, peer);
  };
  cb.connected = [this](uint32_t id, bool ok) { server_->onTcpPeerConnected(id, ok); };
  cb.closed = [this](uint32_t id) { server_->onTcpPeerClosed(id); };
  cb.relayed = [this](uint32_t id, bool toPeer, size_t n) {
    server_->onTcpRelayed(id, toPeer ? turn::Direction::ClientToPeer : turn::Direction::PeerToClient, n);
  };
  return cb;
}

void Worker::setStreamLimits(const StreamLimits& limits) {
  streams_->setLimits(limits);
  tcp_->setLimits(limits.peerBufferBytes, limits.outputHighWatermark);
}

Result<turn::RelayHandle, int> Worker::openTcpRelay(const SocketAddress& local,
                                                    uint64_t allocationId) {
  auto index = tcp_->listen(local, allocationId);
  if (!index) return err(index.error());
  return static_cast<turn::RelayHandle>(kTcpHandle | index.value());
}

bool Worker::connectTcpPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) {
  if (!isTcpHandle(relay)) return false;
  return tcp_->connect(static_cast<uint32_t>(relay & ~kTcpHandle), peer, id);
}

bool Worker::bindTcpPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps) {
  return streams_->handOver(client, [this, id, maxBps](HandedOver h) {
    // false: the peer went away meanwhile (the core already knows); h's
    // bufferevent is freed here, closing the client data connection.
    tcp_->join(id, std::move(h), maxBps);
  });
}

void Worker::closeTcpPeer(uint32_t id) { tcp_->close(id); }

bool Worker::moveTcpBind(const FiveTuple& client, uint32_t id, uint32_t owner) {
  Worker* to = deps_.peer ? deps_.peer(owner) : nullptr;
  if (!to || to == this) return false;
  deps_.log.info("tcp relay: ConnectionBind from " + client.client.toString() + " moves from worker " +
                 std::to_string(deps_.id.index) + " to worker " + std::to_string(owner) +
                 ", which owns its peer connection");
  return streams_->handOver(client, [to, id](HandedOver h) {
    detachConnection(std::move(h), [to, id](MovedConnection m) {
      // std::function needs a copyable capture: the connection rides in a shared_ptr.
      auto moved = std::make_shared<MovedConnection>(std::move(m));
      to->post([to, id, moved] { to->adoptTcpBind(id, std::move(*moved)); });
    });
  });
}

void Worker::adoptTcpBind(uint32_t id, MovedConnection moved) {
  auto maxBps = server_->onTcpBindMoved(id);
  if (!maxBps) return;  // the peer went away: `moved` closes the client connection
  HandedOver h = attachConnection(base(), std::move(moved));
  if (!h.bev || !tcp_->join(id, std::move(h), *maxBps)) {
    tcp_->close(id);
    server_->onTcpPeerClosed(id);
  }
}

Worker::~Worker() {
  flushSends();
  // Allocations close their relay sockets through this IoPort: do it while
  // the sockets still exist.
  server_->closeAll();
}

Result<SocketAddress, std::string> Worker::addUdpListener(const SocketAddress& local) {
  auto fd = openUdpSocket(local, /*reusePort=*/true, kListenerBufferBytes);
  if (!fd) return err("cannot bind udp " + local.toString() + ": " + std::strerror(fd.error()));
  auto l = std::make_unique<Listener>();
  l->owner = this;
  l->local = localAddress(fd->get()).value_or(local);
  l->wildcard = l->local.ip.isUnspecified();
  if (l->wildcard) enableDestinationInfo(fd->get(), l->local.ip.family());
  l->fd = std::move(fd.value());
  l->ev.reset(event_new(base(), l->fd.get(), EV_READ | EV_PERSIST,
                        &Worker::onListenerReadable, l.get()));
  event_add(l->ev.get(), nullptr);
  const SocketAddress bound = l->local;
  udpIndex_[bound] = l.get();
  listeners_.push_back(std::move(l));
  return bound;
}

void Worker::endAllocationsOn(const SocketAddress& local, Transport transport) {
  std::vector<uint64_t> ids;
  server_->allocations().forEach([&](turn::Allocation& a) {
    if (covers(local, a.tuple.server) && a.tuple.transport == transport) ids.push_back(a.id);
  });
  for (uint64_t id : ids) server_->endAllocation(id, "listener_removed");
}

bool Worker::removeUdpListener(const SocketAddress& local) {
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [&](const auto& l) { return l->local == local; });
  if (it == listeners_.end()) return false;
  endAllocationsOn(local, Transport::Udp);
  flushSends();
  udpIndex_.erase(local);
  listeners_.erase(it);  // frees the event, then closes the socket
  return true;
}

bool Worker::removeDtlsListener(const SocketAddress& local) {
  auto it = std::find_if(dtls_.begin(), dtls_.end(), [&](const auto& d) { return d->local() == local; });
  if (it == dtls_.end()) return false;
  endAllocationsOn(local, Transport::Dtls);
  (*it)->closeSessions();
  dtlsIndex_.erase(local);
  dtls_.erase(it);
  return true;
}

Result<SocketAddress, std::string> Worker::addDtlsListener(const SocketAddress& local, SharedSslCtx ctx) {
  auto d = std::make_unique<DtlsListener>(
      base(), deps_.clock, rng_, deps_.log,
      [this](const FiveTuple& t, std::span<const uint8_t> frame) { server_->onClientDatagram(t, frame); },
      [this](const FiveTuple& t) { server_->onConnectionClosed(t); });
  if (auto st = d->listen(local, std::move(ctx), streams_->limits()); !st) return err(st.error());
  const SocketAddress bound = d->local();
  dtlsIndex_[bound] = d.get();
  dtls_.push_back(std::move(d));
  return bound;
}

std::vector<SocketAddress> Worker::listenerAddresses() const {
  std::vector<SocketAddress> out;
  for (const auto& l : listeners_) out.push_back(l->local);
  return out;
}

void Worker::run() {
  loop_.run([this] { refreshPolicy(); });
}
void Worker::stop() { loop_.stop(); }
void Worker::pollOnce() {
  refreshPolicy();
  event_base_loop(base(), EVLOOP_NONBLOCK);
}

void Worker::onFlush(evutil_socket_t, short, void* arg) {
  static_cast<Worker*>(arg)->flushSends();
}

void Worker::flushSends() {
  if (const size_t refused = sends_->flush()) server_->countSendFailures(refused);
  if (uringRecv_) uringRecv_->submit();  // this pass's arms
}

bool Worker::queueSend(int fd, const SocketAddress& to, const std::optional<IpAddress>& from,
                       std::span<const uint8_t> bytes) {
  if (deps_.io.sendBatch == policy::SendBatching::Off) return sendDatagramFrom(fd, to, from, bytes);
  // Activated during this loop pass, the flush event runs after the
  // callbacks already queued in it: every socket that was readable is read
  // before anything is sent.
  if (sends_->empty()) event_active(flush_.get(), EV_READ, 0);
  if (const size_t refused = sends_->push(fd, to, from, bytes)) server_->countSendFailures(refused);
  return true;
}

Worker::Listener* Worker::udpListenerFor(const SocketAddress& server) const {
  return findCovering(udpIndex_, server);
}

DtlsListener* Worker::dtlsListenerFor(const SocketAddress& server) const {
  return findCovering(dtlsIndex_, server);
}

void Worker::onListenerReadable(evutil_socket_t, short, void* arg) {
  auto* l = static_cast<Listener*>(arg);
  l->owner->readListener(*l);
}

void Worker::onRelayReadable(evutil_socket_t, short, void* arg) {
  auto* slot = static_cast<RelaySlot*>(arg);
  slot->owner->readRelay(*slot);
}

void Worker::onTick(evutil_socket_t, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  w->server_->tick();
  auto hasAllocation = [w](const FiveTuple& t) { return w->server_->allocations().find(t) != nullptr; };
  w->streams_->sweep(hasAllocation);
  for (auto& d : w->dtls_) d->sweep(hasAllocation);
}

void Worker::refreshPolicy() {
  // One acquire load per loop iteration; the snapshot itself only on a change.
  const uint64_t gen = deps_.policy.generation();
  if (gen == policyGeneration_) return;
  policyGeneration_ = gen;
  auto snapshot = deps_.policy.load();
  setStreamLimits(streamLimits(snapshot->transports));
  if (snapshot->tls != tls_) {  // a pointer compare: contexts change only by reload
    tls_ = snapshot->tls;
    useTlsContexts(tls_.get());
  }
  server_->setPolicy(std::move(snapshot));
}

void Worker::useTlsContexts(const policy::TlsMaterial* material) {
  const auto* set = dynamic_cast<const TlsContexts*>(material);
  if (!set) return;
  for (const auto& e : set->entries()) {
    if (e.transport == Transport::Tls) {
      streams_->replaceTlsContext(e.bound, e.ctx);
      continue;
    }
    if (auto it = dtlsIndex_.find(e.bound); it != dtlsIndex_.end()) it->second->useContext(e.ctx);
  }
}

void Worker::readListener(Listener& l) {
  // Bounded: at most a few batches per wake-up so relay sockets get a turn.
  for (int round = 0; round < 4; ++round) {
    const size_t n = batch_.receive(l.fd.get());
    for (size_t i = 0; i < n; ++i) {
      auto src = batch_.source(i);
      if (!src) continue;
      if (batch_.truncated(i)) {
        server_->onOversizeDatagram(*src);
        continue;
      }
      FiveTuple tuple{*src, l.local, Transport::Udp};
      if (l.wildcard) {
        // The 5-tuple names the address the client sent to: answers,
        // XOR-MAPPED-ADDRESS and the allocation's tuple all use it.
        auto dst = batch_.destination(i);
        if (!dst) continue;  // cannot happen with IP_PKTINFO on; never answer from the wildcard
        tuple.server.ip = *dst;
      }
      server_->onClientDatagram(tuple, batch_.payload(i));
    }
    if (n < DatagramBatch::kBatch) break;
  }
}

void Worker::readRelay(RelaySlot& slot) {
  const uint64_t id = slot.allocationId;
  const int fd = slot.fd.get();
  for (int round = 0; round < 4; ++round) {
    const size_t n = batch_.receive(fd);
    for (size_t i = 0; i < n; ++i) {
      if (auto src = batch_.source(i)) deliverPeerDatagram(id, *src, batch_.payload(i), batch_.truncated(i));
    }
    if (n < DatagramBatch::kBatch) break;
  }
}

void Worker::deliverPeerDatagram(uint64_t allocationId, const SocketAddress& source,
                                 std::span<const uint8_t> payload, bool truncated) {
  if (truncated) return server_->onOversizeDatagram(source);
  // The allocation may be deleted while a batch is handled; the server looks
  // it up by id each time, so a stale id is simply ignored.
  server_->onPeerDatagram(allocationId, source, payload);
}

Result<turn::RelayHandle, int> Worker::openUdpRelay(const SocketAddress& local,
                                                    uint64_t allocationId) {
  auto fd = openUdpSocket(local, /*reusePort=*/false);
  if (!fd) return err(fd.error());
  turn::RelayHandle h;
  if (!freeHandles_.empty()) {
    h = freeHandles_.back();
    freeHandles_.pop_back();
  } else {
    h = static_cast<turn::RelayHandle>(relays_.size());
    relays_.emplace_back();
  }
  auto slot = std::make_unique<RelaySlot>();
  slot->owner = this;
  slot->handle = h;
  slot->allocationId = allocationId;
  slot->fd = std::move(fd.value());
  slot->token = (uint64_t{++relayGeneration_} << 32) | static_cast<uint32_t>(h);
  slot->ev.reset(event_new(base(), slot->fd.get(), EV_READ | EV_PERSIST,
                           &Worker::onRelayReadable, slot.get()));
  slot->viaRing = uringRecv_ && uringRecv_->arm(slot->fd.get(), slot->token);
  if (!slot->viaRing) event_add(slot->ev.get(), nullptr);
  else event_active(flush_.get(), EV_READ, 0);  // the arm is submitted at this pass's flush
  relays_[static_cast<size_t>(h)] = std::move(slot);
  return h;
}

void Worker::closeRelay(turn::RelayHandle h) {
  if (isTcpHandle(h)) return tcp_->closeListener(static_cast<uint32_t>(h & ~kTcpHandle));
  if (h < 0 || static_cast<size_t>(h) >= relays_.size() || !relays_[h]) return;
  flushSends();  // what is queued on this socket leaves before it closes
  if (relays_[h]->viaRing) uringRecv_->cancel(relays_[h]->token);  // the ring holds the file until then
  relays_[h].reset();  // frees the event, then closes the fd
  freeHandles_.push_back(h);
}

bool Worker::sendToPeer(turn::RelayHandle h, const SocketAddress& peer,
                        std::span<const uint8_t> bytes) {
  if (h < 0 || static_cast<size_t>(h) >= relays_.size() || !relays_[h]) return false;
  return queueSend(relays_[h]->fd.get(), peer, std::nullopt, bytes);
}

bool Worker::sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  if (tuple.transport == Transport::Tcp || tuple.transport == Transport::Tls)
    return streams_->send(tuple, bytes);
  if (tuple.transport == Transport::Dtls) {
    DtlsListener* d = dtlsListenerFor(tuple.server);
    return d && d->send(tuple, bytes);
  }
  const Listener* l = udpListenerFor(tuple.server);
  if (!l) return false;
  return queueSend(l->fd.get(), tuple.client,
                   l->wildcard ? std::optional<IpAddress>(tuple.server.ip) : std::nullopt, bytes);
}

}  // namespace tw::io
