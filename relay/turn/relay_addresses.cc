#include "relay/turn/relay_addresses.h"

namespace tw::turn {

void RelayAddresses::add(IpAddress bind, IpAddress advertised, uint16_t firstPort, uint16_t lastPort) {
  endpoints_.push_back(RelayEndpoint{bind, advertised, std::make_unique<PortPool>(firstPort, lastPort)});
}

RelayEndpoint* RelayAddresses::forFamily(Family f) {
  for (auto& e : endpoints_)
    if (e.bind.family() == f) return &e;
  return nullptr;
}

bool RelayAddresses::isLiveRelay(const SocketAddress& peer) const {
  for (const auto& e : endpoints_) {
    if (peer.ip != e.bind && peer.ip != e.advertised) continue;
    if (peer.port < e.pool->first() || peer.port > e.pool->last()) continue;
    if (e.pool->isLive(peer.port)) return true;
  }
  return false;
}

SocketAddress RelayAddresses::toBound(const SocketAddress& peer) const {
  for (const auto& e : endpoints_) {
    if (e.advertised == e.bind || peer.ip != e.advertised) continue;
    if (peer.port < e.pool->first() || peer.port > e.pool->last()) continue;
    return SocketAddress{e.bind, peer.port};
  }
  return peer;
}

SocketAddress RelayAddresses::toAdvertised(const SocketAddress& source) const {
  for (const auto& e : endpoints_) {
    if (e.advertised == e.bind || source.ip != e.bind) continue;
    if (source.port < e.pool->first() || source.port > e.pool->last()) continue;
    return SocketAddress{e.advertised, source.port};
  }
  return source;
}

}  // namespace tw::turn
