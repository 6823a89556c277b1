// auth.realms (docs/policy.md, "Realms: keyrings and rules per tenant"): a
// keyring per realm, so a REST credential minted for one tenant's realm is
// refused on another tenant's listeners. A realm other than the top-level one
// never falls back to the global keyring silently: the operator names its own
// keyring or writes use_global_keyring: true.
#include "policy/config_realms.h"

#include <algorithm>

#include "policy/config_quotas.h"

namespace tw::policy::config_detail {

namespace {

bool present(const Item& map, std::string_view key) {
  const Item v = fieldItem(map, key);
  return v.path != map.path && !v.node.IsNull();
}

void readUseGlobal(Reader& r, const Item& i, RealmAuthConfig& o) {
  if (auto b = r.boolean(i)) o.useGlobalKeyring = *b;
}

constexpr std::array<Field<RealmAuthConfig>, 5> kRealmAuthFields{{
    {"secrets", [](Reader& r, const Item& i, RealmAuthConfig& o) { o.secrets = readSecretList(r, i); }},
    {"secrets_file",
     [](Reader& r, const Item& i, RealmAuthConfig& o) {
       if (i.node.IsNull()) return;
       if (auto p = r.path(i)) o.secretsFile = *p;
     }},
    {"use_global_keyring", readUseGlobal},
    {"rotation", [](Reader& r, const Item& i, RealmAuthConfig& o) { readRotation(r, i, o.rotation); }},
    {"users", [](Reader& r, const Item& i, RealmAuthConfig& o) { readUsers(r, i, o.users); }},
}};

/// Exactly one of secrets, secrets_file and use_global_keyring: true.
void checkSource(Reader& r, const Item& value, const RealmAuthConfig& ra) {
  const int sources =
      int(present(value, "secrets")) + int(present(value, "secrets_file")) + int(ra.useGlobalKeyring);
  if (sources > 1) return r.error(value, "set one of secrets, secrets_file and use_global_keyring: true");
  if (sources == 0)
    r.error(value,
            "no keyring: set secrets or secrets_file (this realm's own), or "
            "use_global_keyring: true to accept auth.secrets here too");
}

/// A secret value in two keyrings would make a credential valid in both realms.
void checkShared(Reader& r, const Item& value, const std::vector<Secret>& mine,
                 const std::vector<Secret>& other, const std::string& otherName) {
  for (const Secret& a : mine)
    for (const Secret& b : other)
      if (a.value == b.value)
        r.error(value, "secret " + shown(a.id) + " has the same value as secret " + shown(b.id) + " of " +
                           otherName + ": a credential it signs would be valid in both realms");
}

/// Two keyrings in one file would be one keyring: both realms would accept
/// each other's credentials (and the second could not be generated).
void checkSameFile(Reader& r, const Item& value, const std::string& mine, const std::string& other,
                   const std::string& otherName) {
  if (!mine.empty() && mine == other)
    r.error(fieldItem(value, "secrets_file"),
            "the same file as " + otherName + ": each realm needs a keyring file of its own");
}

}  // namespace

void forEachRealm(Reader& r, const Item& map, const RealmVisitor& fn) {
  if (map.node.IsNull() || !r.expectMap(map)) return;
  std::vector<std::string> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;
    auto name = realmText(r, Item{key, key.Mark(), map.path});
    if (!name) continue;
    const Item value = fieldItem(map, *name);
    if (std::find(seen.begin(), seen.end(), *name) != seen.end()) {
      r.errorAt(key.Mark(), value.path + ": duplicate realm (each realm may appear once)");
      continue;
    }
    seen.push_back(*name);
    fn(*name, key.Mark(), value);
  }
}

void readAuthRealms(Reader& r, const Item& map, AuthConfig& out) {
  forEachRealm(r, map, [&](const std::string& name, const YAML::Mark& at, const Item& value) {
    RealmAuthConfig ra;
    ra.realm = name;
    ra.line = at.line;
    ra.column = at.column;
    readFields(r, value, kRealmAuthFields, ra);
    out.realms.push_back(std::move(ra));
  });
}

void checkAuthRealms(Reader& r, const Item& authItem, AuthConfig& auth) {
  const Item map = fieldItem(authItem, "realms");
  if (map.path == authItem.path || !map.node.IsMap()) return;
  for (size_t i = 0; i < auth.realms.size(); ++i) {
    RealmAuthConfig& ra = auth.realms[i];
    const Item value = fieldItem(map, ra.realm);
    const std::string name = "auth.realms." + ra.realm;
    checkSource(r, value, ra);
    checkRotation(r, value, name, ra.rotation, ra.secretsFile, auth.maxTtlSeconds);
    loadKeyringFile(r, ra.secretsFile, ra.secrets);
    checkSameFile(r, value, ra.secretsFile, auth.secretsFile, "auth.secrets_file");
    for (size_t j = 0; j < i; ++j)
      checkSameFile(r, value, ra.secretsFile, auth.realms[j].secretsFile,
                    "auth.realms." + auth.realms[j].realm + ".secrets_file");
    checkShared(r, value, ra.secrets, auth.secrets, "auth.secrets");
    for (size_t j = 0; j < i; ++j)
      checkShared(r, value, ra.secrets, auth.realms[j].secrets, "auth.realms." + auth.realms[j].realm);
  }
}

namespace {
YAML::Mark markAt(int line, int column) {
  YAML::Mark at;
  at.line = line;
  at.column = column;
  return at;
}

bool served(const Config& cfg, std::string_view realm) {
  return std::any_of(cfg.listeners.begin(), cfg.listeners.end(),
                     [&](const ListenerConfig& l) { return effectiveRealm(cfg, l) == realm; });
}

void checkListenerRealms(Reader& r, const Config& cfg) {
  for (const ListenerConfig& l : cfg.listeners) {
    if (l.realm.empty() || l.realm == cfg.realm || realmSecrets(cfg, l.realm)) continue;
    r.errorAt(markAt(l.realmLine, l.realmColumn),
              "listener realm " + shown(l.realm) + " has no keyring: add auth.realms." + l.realm +
                  " with its own secrets or secrets_file, or use_global_keyring: true to share "
                  "auth.secrets with it (docs/policy.md, \"Realms\")");
  }
}
/// A fleet shares the top-level keyring through Redis; a realm's own
/// keyring is read from each node's config. Rotating it on each node would
/// give every node a different secret, so it is refused until the fleet
/// shares realm keyrings (docs/fleet.md).
void checkFleetRotation(Reader& r, const Item& root, const Config& cfg) {
  if (!cfg.fleet) return;
  const Item realms = fieldItem(fieldItem(root, "auth"), "realms");
  for (const RealmAuthConfig& ra : cfg.auth.realms) {
    if (!ra.rotation) continue;
    r.error(fieldItem(fieldItem(realms, ra.realm), "rotation"),
            "not available with fleet: yet: each node would rotate its own copy of this realm's "
            "keyring; give every node the same keyring file and rotate it there (docs/fleet.md)");
  }
}
}  // namespace

void checkRealmKeyrings(Reader& r, const Item& root, Config& cfg) {
  for (const RealmAuthConfig& ra : cfg.auth.realms) {
    if (ra.realm == cfg.realm)
      r.errorAt(markAt(ra.line, ra.column),
                "auth.realms: " + shown(ra.realm) +
                    " is the top-level realm, whose keyring is auth.secrets or auth.secrets_file");
    else if (!served(cfg, ra.realm))
      r.errorAt(markAt(ra.line, ra.column),
                "auth.realms: realm " + shown(ra.realm) + " is not the realm of any listener");
  }
  checkListenerRealms(r, cfg);
  checkFleetRotation(r, root, cfg);
  if (cfg.credentials.realm.empty()) cfg.credentials.realm = cfg.realm;
  if (cfg.credentials.realm != cfg.realm && !served(cfg, cfg.credentials.realm))
    r.error(fieldItem(fieldItem(root, "credentials"), "realm"),
            "realm " + shown(cfg.credentials.realm) +
                " is not the realm of any listener nor the top-level realm");
}

}  // namespace tw::policy::config_detail

namespace tw::policy {

const std::vector<Secret>* realmSecrets(const Config& config, std::string_view realm) {
  if (realm == config.realm) return &config.auth.secrets;
  for (const RealmAuthConfig& ra : config.auth.realms)
    if (ra.realm == realm) return ra.useGlobalKeyring ? &config.auth.secrets : &ra.secrets;
  return nullptr;
}

}  // namespace tw::policy
