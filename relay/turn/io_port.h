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
  virtual bool sendToPeer(RelayHandle handle, const SocketAddress& peer,
                          std::span<const uint8_t> bytes) = 0;
  virtual bool sendToClient(const FiveTuple& tuple, std::span<const uint8_t> bytes) = 0;
};

}  // namespace tw::turn
