// The server's side of secret rotation (policy/rotation.h): once a second it
// rotates the keyring file when auth.rotation.interval has passed since the
// file was last written, drops secrets whose grace has ended, and picks up a
// keyring rewritten by `turnwarden rotate` (or by hand). SIGUSR2 rotates now.
// Every change becomes a new policy snapshot; allocations are untouched.
// Every rewrite of the file (rotation, prune) goes through the keyring lock
// and re-reads the file under it (policy/keyring_lock.h), so a concurrent
// `turnwarden rotate` is never lost; the stamp recorded is the one taken
// under the lock, so a rewrite that follows ours is picked up next second.
// Secret values are never logged, only ids. The realms' own keyring files
// are watched on the same timer (realm_keyrings.cc).
#include <sys/stat.h>

#include <chrono>

#include "policy/keyring_poll.h"
#include "policy/rotation.h"
#include "policy/secrets_file.h"
#include "relay/app/server_app.h"

namespace tw::app {

void ServerApp::startKeyringWatch() {
  const bool global = !config_.auth.secretsFile.empty() && !fleet_;  // a fleet's keyring lives in Redis
  if (!global && !watchRealmKeyrings()) return;
  keyringMtime_ = policy::fileStampNs(config_.auth.secretsFile).value_or(0);
  keyringTimer_.reset(event_new(control_->base(), -1, EV_PERSIST, &ServerApp::onKeyringTimer, this));
  const timeval second{1, 0};
  event_add(keyringTimer_.get(), &second);
}

void ServerApp::onKeyringTimer(evutil_socket_t, short, void* arg) {
  static_cast<ServerApp*>(arg)->checkKeyring();
}

namespace {
/// The loop waits at most this long for `turnwarden rotate` to finish.
constexpr tw::Duration kServerLockWait = std::chrono::seconds(2);
}  // namespace

void ServerApp::publishSecrets(std::vector<policy::Secret> secrets, std::string_view why, int64_t stamp) {
  config_.auth.secrets = std::move(secrets);
  keyringMtime_ = stamp;
  publish();
  obs_->noteSecrets(config_.auth.secrets, policy::fileMtime(config_.auth.secretsFile));
  std::string ids;
  for (const auto& s : config_.auth.secrets)
    ids += " " + s.id + (s.notAfter ? "(until " + std::to_string(*s.notAfter) + ")" : "");
  log_.info("keyring " + std::string(why) + ": policy generation " + std::to_string(generation_) +
            ", secrets (first mints):" + ids);
}

Status<std::string> ServerApp::rotateNow(std::string_view why) {
  if (fleet_) {
    fleet_->rotate(std::string(why), [this](Result<std::string, std::string> r) {
      if (!r) log_.error("fleet keyring rotation failed, keeping the current keyring: " + r.error());
    });
    return {};
  }
  if (config_.auth.secretsFile.empty()) {
    log_.warn("rotation requested (" + std::string(why) + ") but auth.secrets_file is not set");
    return err(std::string("auth.secrets_file is not set: inline secrets cannot be rotated"));
  }
  const int64_t grace = policy::rotationGraceSeconds(config_.auth.rotation, config_.auth.maxTtlSeconds);
  auto next =
      policy::rotateSecretsFile(config_.auth.secretsFile, rng_, clock_.unixSeconds(), grace, kServerLockWait);
  if (!next) {
    log_.error("keyring rotation failed, keeping the current keyring: " + next.error());
    return err(next.error());
  }
  publishSecrets(std::move(next->secrets), "rotated (" + std::string(why) + ")", next->stampNs);
  return {};
}

void ServerApp::checkKeyring() {
  checkRealmKeyrings();
  if (config_.auth.secretsFile.empty() || fleet_) return;  // a fleet's keyring lives in Redis
  const policy::KeyringFileWatch watch{
      config_.auth.secretsFile, config_.auth.rotation,
      policy::rotationGraceSeconds(config_.auth.rotation, config_.auth.maxTtlSeconds)};
  auto poll = policy::pollKeyringFile(watch, config_.auth.secrets, keyringMtime_, rng_, clock_.unixSeconds(),
                                      kServerLockWait);
  for (const auto& e : poll.errors) log_.error(e);
  if (poll.change) publishSecrets(std::move(poll.change->secrets), poll.why, poll.change->stampNs);
}

}  // namespace tw::app
