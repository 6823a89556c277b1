#pragma once
// The stream side of a worker (io::Worker composes it with its datagram
// side, worker_datagrams.h): TCP/TLS client connections (StreamConnections)
// and the TCP relay of RFC 6062 (TcpRelay: relayed listeners, peer
// connections, pipes), and moving a bound data connection between workers.
// Frames and TCP relay events go to the worker's TurnServer. Runs on the
// worker's loop thread only.
#include <functional>
#include <memory>

#include "relay/base/log.h"
#include "relay/io/connection_move.h"
#include "relay/io/stream_connections.h"
#include "relay/io/tcp_relay.h"
#include "relay/turn/turn_server.h"

namespace tw::io {

class WorkerStreams {
 public:
  WorkerStreams(event_base* base, Clock& clock, Logger& log, turn::TurnServer& server);
  WorkerStreams(const WorkerStreams&) = delete;
  WorkerStreams& operator=(const WorkerStreams&) = delete;

  StreamConnections& connections() { return *streams_; }
  TcpRelay& tcpRelay() { return *tcp_; }
  /// Applies stream limits to client connections and to TCP relay.
  void setLimits(const StreamLimits& limits);
  const StreamLimits& limits() const { return streams_->limits(); }
  /// Handshake and idle timeouts (the worker's 1-second tick).
  void sweep(const StreamConnections::HasAllocation& hasAllocation) { streams_->sweep(hasAllocation); }

  /// TCP relay listeners share the RelayHandle space with UDP relay sockets.
  static bool isRelayHandle(turn::RelayHandle h) { return h >= 0 && (h & kTcpHandle) != 0; }

  // The stream half of turn::IoPort.
  bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) {
    return streams_->send(tuple, bytes);
  }
  Result<turn::RelayHandle, int> openRelay(const SocketAddress& local, uint64_t allocationId);
  void closeRelay(turn::RelayHandle h) { tcp_->closeListener(index(h)); }
  bool connectPeer(turn::RelayHandle relay, const SocketAddress& peer, uint32_t id);
  bool bindPeer(const FiveTuple& client, uint32_t id, uint64_t maxBps);
  void closePeer(uint32_t id) { tcp_->close(id); }
  /// Takes `client`'s connection out of its bufferevent once its current
  /// frame is done, and hands it to `deliver` (which posts it to the owner).
  bool moveBind(const FiveTuple& client, std::function<void(MovedConnection)> deliver);
  /// On the owner: joins a client connection moved here by another worker.
  void adoptBind(uint32_t id, MovedConnection moved);

 private:
  static constexpr turn::RelayHandle kTcpHandle = 0x40000000;
  static uint32_t index(turn::RelayHandle h) { return static_cast<uint32_t>(h & ~kTcpHandle); }
  TcpRelayCallbacks tcpRelayCallbacks();

  event_base* base_;
  turn::TurnServer& server_;
  std::unique_ptr<StreamConnections> streams_;
  std::unique_ptr<TcpRelay> tcp_;  // destroyed before the connections
};

}  // namespace tw::io
