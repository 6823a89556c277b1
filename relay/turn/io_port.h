#pragma once
// The seam between protocol state (relay/turn, no sockets) and the edge
// (relay/io). The core asks for relay sockets and sends bytes through this
// interface; relay/io implements it with libevent, and feeds datagrams back
// into TurnServer.
#include <cstdint>
#include <span>

#include "relay/base/address.h"
#include "relay/base/result.h"

namespace tw::turn {

/// Opaque handle of one relay socket, owned by the edge.
using RelayHandle = int32_t;
constexpr RelayHandle kNoRelay = -1;

class IoPort {
 public:
  virtual ~IoPort() = default;
  /// Binds a UDP relay socket on `local` whose datagrams are delivered to
  /// TurnServer::onPeerDatagram(allocationId, ...). Returns errno on failure.
  virtual Result<RelayHandle, int> openUdpRelay(const SocketAddress& local, uint64_t allocationId) = 0;
  virtual void closeRelay(RelayHandle handle) = 0;
  /// Returns false when the kernel refused the datagram.
  virtual bool sendToPeer(RelayHandle handle, const SocketAddress& peer, std::span<const uint8_t> bytes) = 0;
  virtual bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) = 0;

  // TCP relay (RFC 6062). The edge reports back through TurnServer's
  // onTcpPeer* calls; an edge without TCP relay refuses every operation.

  /// Listens on `local` for peer connections to a TCP allocation; each one is
  /// offered to TurnServer::onTcpPeerAccepted(allocationId, peer).
  virtual Result<RelayHandle, int> openTcpRelay(const SocketAddress& /*local*/, uint64_t /*allocationId*/) {
    return err(95);  // EOPNOTSUPP
  }
  /// Starts a connect() from the relayed address of `relay` to `peer` (the
  /// caller has checked the peer rules). Completion is reported through
  /// TurnServer::onTcpPeerConnected(id, ok); false: failed at once.
  virtual bool connectTcpPeer(RelayHandle /*relay*/, const SocketAddress& /*peer*/, uint32_t /*id*/) {
    return false;
  }
  /// Joins the client data connection `client` to peer connection `id`
  /// (ConnectionBind): from now on bytes flow both ways as they are, each
  /// direction limited to `maxBps` bytes/s (0: unlimited).
  virtual bool bindTcpPeer(const FiveTuple& /*client*/, uint32_t /*id*/, uint64_t /*maxBps*/) {
    return false;
  }
  /// Closes peer connection `id` and its client data connection, if any.
  /// No callback follows.
  virtual void closeTcpPeer(uint32_t /*id*/) {}
  /// ConnectionBind for peer connection `id`, owned by worker `owner`, came
  /// in on this worker's client connection `client`: moves that connection
  /// (after the response queued on it) to the owner, which joins it there
  /// (TurnServer::onTcpBindMoved). false when it cannot be moved.
  virtual bool moveTcpBind(const FiveTuple& /*client*/, uint32_t /*id*/, uint32_t /*owner*/) { return false; }
};

}  // namespace tw::turn
