#include "relay/io/worker_streams.h"

namespace tw::io {

WorkerStreams::WorkerStreams(event_base* base, Clock& clock, Logger& log, turn::TurnServer& server)
    : base_(base), server_(server) {
  streams_ = std::make_unique<StreamConnections>(
      base, clock, log,
      [this](const FiveTuple& t, std::span<const uint8_t> frame) { server_.onClientDatagram(t, frame); },
      [this](const FiveTuple& t) { server_.onConnectionClosed(t); });
  tcp_ = std::make_unique<TcpRelay>(base, log, tcpRelayCallbacks());
}

TcpRelayCallbacks WorkerStreams::tcpRelayCallbacks() {
  TcpRelayCallbacks cb;
  cb.accepted = [this](uint64_t allocationId, const SocketAddress& peer) {
    return server_.onTcpPeerAccepted(allocationId, peer);
  };
  cb.connected = [this](uint32_t id, bool ok) { server_.onTcpPeerConnected(id, ok); };
  cb.closed = [this](uint32_t id) { server_.onTcpPeerClosed(id); };
  cb.relayed = [this](uint32_t id, bool toPeer, size_t n) {
    server_.onTcpRelayed(id, toPeer ? turn::Direction::ClientToPeer : turn::Direction::PeerToClient, n);
  };
  return cb;
}

void WorkerStreams::setLimits(const StreamLimits& limits) {
  streams_->setLimits(limits);
  tcp_->setLimits(limits.peerBufferBytes, limits.outputHighWatermark);
}

Result<turn::RelayHandle, int> WorkerStreams::openRelay(const SocketAddress& local, uint64_t allocationId) {
  auto i = tcp_->listen(local, allocationId);
  if (!i) return err(i.error());
  return static_cast<turn::RelayHandle>(kTcpHandle | i.value());
}

bool WorkerStreams::connectPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id) {
  if (!isRelayHandle(relay)) return false;
  return tcp_->connect(index(relay), peer, id);
}

bool WorkerStreams::bindPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps) {
  return streams_->handOver(client, [this, id, maxBps](HandedOver h) {
    // false: the peer went away meanwhile (the core already knows); h's
    // bufferevent is freed here, closing the client data connection.
    tcp_->join(id, std::move(h), maxBps);
  });
}

bool WorkerStreams::moveBind(const FiveTuple& client, std::function<void(MovedConnection)> deliver) {
  return streams_->handOver(
      client, [deliver = std::move(deliver)](HandedOver h) { detachConnection(std::move(h), deliver); });
}

void WorkerStreams::adoptBind(uint32_t id, MovedConnection moved) {
  auto maxBps = server_.onTcpBindMoved(id);
  if (!maxBps) return;  // the peer went away: `moved` closes the client connection
  HandedOver h = attachConnection(base_, std::move(moved));
  if (!h.bev || !tcp_->join(id, std::move(h), *maxBps)) {
    tcp_->close(id);
    server_.onTcpPeerClosed(id);
  }
}

}  // namespace tw::io
