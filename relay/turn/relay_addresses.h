#pragma once
// The addresses relayed sockets bind to, each with its port pool. Shared by
// all workers (PortPool is thread-safe).
#include <memory>
#include <optional>
#include <vector>

#include "relay/base/address.h"
#include "relay/turn/port_pool.h"

namespace tw::turn {

struct RelayEndpoint {
  IpAddress bind;        // local address relay sockets bind to
  IpAddress advertised;  // what XOR-RELAYED-ADDRESS shows (external address)
  std::unique_ptr<PortPool> pool;
};

class RelayAddresses {
 public:
  void add(IpAddress bind, IpAddress advertised, uint16_t firstPort, uint16_t lastPort);
  RelayEndpoint* forFamily(Family f);
  /// True when `peer` is a live relayed address of this server: relay-to-relay
  /// traffic (both WebRTC clients behind TURN), which must keep working even
  /// though the relay addresses sit in denied ranges such as 127/8.
  bool isLiveRelay(const SocketAddress& peer) const;
  const std::vector<RelayEndpoint>& endpoints() const { return endpoints_; }
  std::vector<RelayEndpoint>& endpoints() { return endpoints_; }

 private:
  std::vector<RelayEndpoint> endpoints_;
};

}  // namespace tw::turn
