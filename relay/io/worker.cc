#include "relay/io/worker.h"

namespace tw::io {

StreamLimits streamLimits(const policy::TransportsConfig& t) {
  StreamLimits s;
  s.maxFrameBytes = t.streamBufferBytes;
  s.maxConnectionsPerIp = t.maxConnectionsPerIp;
  s.outputHighWatermark = t.streamOutputBytes;
  s.idleTimeout = t.idleTimeout;
  s.handshakeTimeout = t.handshakeTimeout;
  s.peerBufferBytes = t.tcpRelayBufferBytes;
  s.trustedProxies = t.trustedProxies;
  return s;
}

Worker::Worker(WorkerDeps deps) : deps_(deps) {
  auto snapshot = deps_.policy.load();
  policyGeneration_ = snapshot->generation;
  server_ =
      std::make_unique<turn::TurnServer>(turn::ServerDeps{deps_.clock, rng_, *this, deps_.events,
                                                          deps_.relays, deps_.nonces, deps_.shared, deps_.id},
                                         std::move(snapshot));
  tick_.reset(event_new(base(), -1, EV_PERSIST, &Worker::onTick, this));
  const timeval second{1, 0};
  event_add(tick_.get(), &second);
  datagrams_ = std::make_unique<WorkerDatagrams>(
      DatagramDeps{base(), deps_.clock, rng_, deps_.log, deps_.id.index}, *server_);
  streams_ = std::make_unique<WorkerStreams>(base(), deps_.clock, deps_.log, *server_);
  setStreamLimits(streamLimits(server_->policy().transports));
}

Worker::~Worker() {
  datagrams_->flushSends();
  // Allocations close their relay sockets through this IoPort: do it while
  // the sockets still exist.
  server_->closeAll();
}

void Worker::setStreamLimits(const StreamLimits& limits) { streams_->setLimits(limits); }

Result<SocketAddress, std::string> Worker::addUdpListener(const SocketAddress& local) {
  return datagrams_->addUdpListener(local);
}

void Worker::endAllocationsOn(const SocketAddress& local, Transport transport) {
  std::vector<uint64_t> ids;
  server_->allocations().forEach([&](turn::Allocation& a) {
    if (covers(local, a.tuple.server) && a.tuple.transport == transport) ids.push_back(a.id);
  });
  for (uint64_t id : ids) server_->endAllocation(id, "listener_removed");
}

bool Worker::removeUdpListener(const SocketAddress& local) {
  if (!datagrams_->hasUdpListener(local)) return false;
  endAllocationsOn(local, Transport::Udp);
  return datagrams_->removeUdpListener(local);
}

bool Worker::removeDtlsListener(const SocketAddress& local) {
  if (!datagrams_->hasDtlsListener(local)) return false;
  endAllocationsOn(local, Transport::Dtls);
  return datagrams_->removeDtlsListener(local);
}

Result<SocketAddress, std::string> Worker::addDtlsListener(const SocketAddress& local, SharedSslCtx ctx) {
  return datagrams_->addDtlsListener(local, std::move(ctx), streams_->limits());
}

std::vector<SocketAddress> Worker::listenerAddresses() const { return datagrams_->listenerAddresses(); }

void Worker::run() {
  loop_.run([this] { refreshPolicy(); });
}
void Worker::stop() { loop_.stop(); }
void Worker::pollOnce() {
  refreshPolicy();
  event_base_loop(base(), EVLOOP_NONBLOCK);
}

void Worker::onTick(evutil_socket_t, short, void* arg) {
  auto* w = static_cast<Worker*>(arg);
  w->server_->tick();
  auto hasAllocation = [w](const FiveTuple& t) { return w->server_->allocations().find(t) != nullptr; };
  w->streams_->sweep(hasAllocation);
  w->datagrams_->sweep(hasAllocation);
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
    if (e.transport == Transport::Tls)
      streams_->connections().replaceTlsContext(e.bound, e.ctx);
    else
      datagrams_->useDtlsContext(e.bound, e.ctx);
  }
}

// turn::IoPort: each call goes to the side that owns the socket.

Result<turn::RelayHandle, int> Worker::openUdpRelay(const SocketAddress& local, uint64_t allocationId) {
  return datagrams_->openRelay(local, allocationId);
}

void Worker::closeRelay(turn::RelayHandle h) {
  if (WorkerStreams::isRelayHandle(h)) return streams_->closeRelay(h);
  datagrams_->closeRelay(h);
}

bool Worker::sendToPeer(turn::RelayHandle h, const SocketAddress& peer, std::span<const uint8_t> bytes) {
  return datagrams_->sendToPeer(h, peer, bytes);
}

bool Worker::sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
  if (tuple.transport == Transport::Tcp || tuple.transport == Transport::Tls)
    return streams_->sendToClient(tuple, bytes);
  return datagrams_->sendToClient(tuple, bytes);
}

Result<turn::RelayHandle, int> Worker::openTcpRelay(const SocketAddress& local, uint64_t allocationId) {
  return streams_->openRelay(local, allocationId);
}

bool Worker::connectTcpPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) {
  return streams_->connectPeer(relay, peer, id);
}

bool Worker::bindTcpPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps) {
  return streams_->bindPeer(client, id, maxBps);
}

void Worker::closeTcpPeer(uint32_t id) { streams_->closePeer(id); }

bool Worker::moveTcpBind(const FiveTuple& client, uint32_t id, uint32_t owner) {
  Worker* to = deps_.peer ? deps_.peer(owner) : nullptr;
  if (!to || to == this) return false;
  deps_.log.info("tcp relay: ConnectionBind from " + client.client.toString() + " moves from worker " +
                 std::to_string(deps_.id.index) + " to worker " + std::to_string(owner) +
                 ", which owns its peer connection");
  return streams_->moveBind(client, [to, id](MovedConnection m) {
    // std::function needs a copyable capture: the connection rides in a shared_ptr.
    auto moved = std::make_shared<MovedConnection>(std::move(m));
    to->post([to, id, moved] { to->adoptTcpBind(id, std::move(*moved)); });
  });
}

}  // namespace tw::io
