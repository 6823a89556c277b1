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
                   std::vector<RealmPeerLayer> layers, std::vector<RealmCredentials> credentials)
    : default_(std::move(defaultRealm)),
      listeners_(std::move(listeners)),
      layers_(std::move(layers)),
      credentials_(std::move(credentials)) {}

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

const RealmCredentials* RealmMap::credentialsFor(std::string_view realm) const {
  for (const RealmCredentials& c : credentials_)
    if (c.realm == realm) return &c;
  return nullptr;
}

namespace {
/// Each auth.realms entry as the auth gate uses it: its own keyring and
/// users, plus the global ones when it says use_global_keyring.
std::vector<RealmCredentials> realmCredentials(const Config& config) {
  std::vector<RealmCredentials> out;
  for (const RealmAuthConfig& ra : config.auth.realms) {
    std::vector<StaticUser> users = ra.users;
    if (ra.useGlobalKeyring) users.insert(users.end(), config.auth.users.begin(), config.auth.users.end());
    out.push_back(RealmCredentials{ra.realm, Keyring(*realmSecrets(config, ra.realm)), std::move(users)});
  }
  return out;
}
}  // namespace

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
  return RealmMap(config.realm, std::move(listeners), std::move(layers), realmCredentials(config));
}

}  // namespace tw::policy
