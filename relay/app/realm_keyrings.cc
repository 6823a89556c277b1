// The realms' own keyrings (auth.realms.REALM.secrets_file, docs/policy.md
// "Keyrings per realm"), watched once a second on the global keyring's timer
// (keyring_watch.cc) with the same rules: a file rewritten by `turnwarden
// rotate --realm REALM` or by hand is loaded, the realm's rotation runs when
// due, and secrets whose grace ended are pruned. Each change is a new policy
// snapshot; allocations are untouched. Only ids are logged, never values.
#include "policy/keyring_poll.h"
#include "policy/rotation.h"
#include "relay/app/server_app.h"

namespace tw::app {

namespace {
/// The loop waits at most this long for `turnwarden rotate` to finish.
constexpr tw::Duration kRealmLockWait = std::chrono::seconds(2);

bool watched(const policy::RealmAuthConfig& ra) { return !ra.useGlobalKeyring && !ra.secretsFile.empty(); }
}  // namespace

bool ServerApp::watchRealmKeyrings() {
  bool any = false;
  for (const auto& ra : config_.auth.realms) {
    if (!watched(ra)) continue;
    realmKeyringStamps_[ra.realm] = policy::fileStampNs(ra.secretsFile).value_or(0);
    any = true;
  }
  return any;
}

void ServerApp::checkRealmKeyrings() {
  const int64_t now = clock_.unixSeconds();
  for (auto& ra : config_.auth.realms) {
    if (!watched(ra)) continue;
    if (ra.secrets.empty() && !policy::fileStampNs(ra.secretsFile)) {  // added by a reload, no file yet
      if (ensureKeyringFile(ra.secretsFile, ra.secrets)) publish();
      continue;
    }
    const policy::KeyringFileWatch watch{
        ra.secretsFile, ra.rotation, policy::rotationGraceSeconds(ra.rotation, config_.auth.maxTtlSeconds)};
    // A realm added by a reload starts at 0: its file is loaded once more, harmlessly.
    auto poll =
        policy::pollKeyringFile(watch, ra.secrets, realmKeyringStamps_[ra.realm], rng_, now, kRealmLockWait);
    for (const auto& e : poll.errors) log_.error("realm " + ra.realm + ": " + e);
    if (!poll.change) continue;
    ra.secrets = std::move(poll.change->secrets);
    publish();
    std::string ids;
    for (const auto& s : ra.secrets)
      ids += " " + s.id + (s.notAfter ? "(until " + std::to_string(*s.notAfter) + ")" : "");
    log_.info("realm " + ra.realm + " keyring " + poll.why + ": policy generation " +
              std::to_string(generation_) + ", secrets (first mints):" + ids);
  }
}

}  // namespace tw::app
