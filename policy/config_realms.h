#pragma once
// Internal to the config layer: auth.realms (config_realms.cc), the keyring
// and static users of each realm other than the top-level one, and the
// readers it shares with auth: (config.cc).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policy/config_reader.h"

namespace tw::policy::config_detail {

/// A realm name as written (realm:, listeners[].realm, peers.realms and
/// auth.realms keys): it goes on the wire and into the MD5 key.
std::optional<std::string> realmText(Reader& r, const Item& item);
/// A list of {name, key} static users; duplicate names are errors.
void readUsers(Reader& r, const Item& seq, std::vector<StaticUser>& out);
/// Loads an existing keyring file into `out` (loadConfig only); a missing
/// one is left for the server to generate on first start.
void loadKeyringFile(Reader& r, const std::string& path, std::vector<Secret>& out);

/// Calls `fn(realm, key position, value)` for each key of a map keyed by
/// realm (peers.realms, auth.realms), reporting bad names and duplicates.
using RealmVisitor = std::function<void(const std::string&, const YAML::Mark&, const Item&)>;
void forEachRealm(Reader& r, const Item& map, const RealmVisitor& fn);

/// auth.realms: {REALM: {secrets | secrets_file | use_global_keyring, rotation, users}}.
void readAuthRealms(Reader& r, const Item& map, AuthConfig& out);
/// Once auth: is read (`authItem`): each realm has exactly one keyring
/// source, its rotation is sound against auth.max_ttl, its keyring file is
/// loaded, and no secret value is shared with another realm's keyring.
void checkAuthRealms(Reader& r, const Item& authItem, AuthConfig& auth);
/// Once the whole file is read: every listener realm other than the
/// top-level one has an auth.realms entry, every entry is served by a
/// listener, and credentials.realm (default: the top-level realm) is served.
void checkRealmKeyrings(Reader& r, const Item& root, Config& cfg);

}  // namespace tw::policy::config_detail
