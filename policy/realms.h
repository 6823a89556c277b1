#pragma once
// Multi-tenant realms (docs/policy.md, "Realms"): each listener serves one
// realm (listeners[].realm, default the top-level realm), and a realm may
// carry its own peer rules (peers.realms.REALM), checked before the global
// ones. Immutable once built, shared by every worker through the snapshot.
#include <string>
#include <string_view>
#include <vector>

#include "policy/credentials.h"
#include "policy/peer_rules.h"
#include "relay/base/address.h"

namespace tw::policy {

struct Config;
struct ListenerConfig;
struct PeerRangeConfig;

/// The realm of one listener socket, matched against FiveTuple::server.
struct ListenerRealm {
  SocketAddress address;
  Transport transport = Transport::Udp;
  std::string realm;
};

/// Peer rules of one realm.
struct RealmPeerLayer {
  std::string realm;
  PeerLayer layer;
};

/// The credentials of one realm other than the default one: the keyring its
/// REST credentials verify with and its static users (auth.realms.REALM; with
/// use_global_keyring, copies of auth.secrets and auth.users).
struct RealmCredentials {
  std::string realm;
  Keyring keyring;
  std::vector<StaticUser> users;
};

class RealmMap {
 public:
  RealmMap() = default;
  RealmMap(std::string defaultRealm, std::vector<ListenerRealm> listeners, std::vector<RealmPeerLayer> layers,
           std::vector<RealmCredentials> credentials = {});

  /// The realm of the listener `tuple` arrived on (its server address and
  /// transport); the default realm when no listener matches. A linear scan
  /// over a handful of listeners with no allocation: called once per
  /// authenticated request, never on the ChannelData path.
  const std::string& realmFor(const FiveTuple& tuple) const;
  /// The peer rules of `realm`, or nullptr when it has none.
  const PeerLayer* layerFor(std::string_view realm) const;
  const std::string& defaultRealm() const { return default_; }
  /// The keyring and users of `realm`, or nullptr for the default realm
  /// (the snapshot's own keyring and users) and for a realm no listener serves.
  const RealmCredentials* credentialsFor(std::string_view realm) const;

 private:
  std::string default_;
  std::vector<ListenerRealm> listeners_;
  std::vector<RealmPeerLayer> layers_;
  std::vector<RealmCredentials> credentials_;
};

/// Configured peer ranges with the names logs and revocations report:
/// "PREFIX[i] TEXT", e.g. "config:allowed[0] 10.1.0.0/16".
std::vector<NamedRange> namedPeerRanges(const std::vector<PeerRangeConfig>& in, std::string_view prefix);

/// The realm map of a validated config. Rule names read
/// "config:realms[REALM].allowed[i] TEXT" (denied likewise) in logs.
RealmMap buildRealmMap(const Config& config);

}  // namespace tw::policy
