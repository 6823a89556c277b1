#include "policy/realms.h"

#include "policy/config.h"

namespace tw::policy {
std::vector<NamedRange> namedPeerRanges(const std::vector<PeerRangeConfig>& in, std::string_view prefix) {
  std::vector<NamedRange> out;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string name = std::string(prefix) + "[" + std::to_string(i) + "] " + in[i].text;
    out.push_back(NamedRange{in[i].range, std::move(name), in[i].ports});
  }
  return out;
}

RealmMap::RealmMap(std::string defaultRealm, std::vector<ListenerRealm> listeners,
                   std::vector<RealmPeerLayer> layers)
    : default_(std::move(defaultRealm)), listeners_(std::move(listeners)), layers_(std::move(layers)) {}

const std::string& RealmMap::realmFor(const FiveTuple& tuple) const {
  for (const ListenerRealm& l : listeners_)
    if (l.transport == tuple.transport && covers(l.address, tuple.server)) return l.realm;
  return default_;
}

const PeerLayer* RealmMap::layerFor(std::string_view realm) const {
  for (const RealmPeerLayer& l : layers_)
    if (l.realm == realm) return &l.layer;
  return nullptr;
}

RealmMap buildRealmMap(const Config& config) {
  std::vector<ListenerRealm> listeners;
  for (const ListenerConfig& l : config.listeners)
    listeners.push_back(
        ListenerRealm{SocketAddress{l.address, l.port}, l.transport, effectiveRealm(config, l)});
  std::vector<RealmPeerLayer> layers;
  for (const RealmPeersConfig& r : config.peers.realms) {
    const std::string prefix = "config:realms[" + r.realm + "].";
    layers.push_back(RealmPeerLayer{r.realm, PeerLayer{namedPeerRanges(r.allowed, prefix + "allowed"),
                                                       namedPeerRanges(r.denied, prefix + "denied")}});
  }
  return RealmMap(config.realm, std::move(listeners), std::move(layers));
}

}  // namespace tw::policy
