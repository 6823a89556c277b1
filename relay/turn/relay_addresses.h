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
  /// Where to send to `peer`: a relay port on an advertised (external)
  /// address goes to the bound address of that endpoint, so relay-to-relay
  /// through our own public address is delivered by the local kernel even
  /// when the provider's edge does not hairpin (issue 21). Else `peer`.
  /// No allocation: asked on every Send and ChannelData.
  SocketAddress toBound(const SocketAddress& peer) const;
  /// The reverse, for a datagram arriving on a relay socket: a source on a
  /// relay port of a bound address that advertises another address is shown
  /// as that advertised address. Else `source`.
  SocketAddress toAdvertised(const SocketAddress& source) const;
  const std::vector<RelayEndpoint>& endpoints() const { return endpoints_; }
  std::vector<RelayEndpoint>& endpoints() { return endpoints_; }

 private:
  std::vector<RelayEndpoint> endpoints_;
};

}  // namespace tw::turn
