// The server's side of secret rotation (policy/rotation.h): once a second it
// rotates the keyring file when auth.rotation.interval has passed since the
// file was last written, drops secrets whose grace has ended, and picks up a
// keyring rewritten by `turnwarden rotate` (or by hand). SIGUSR2 rotates now.
// Every change becomes a new policy snapshot; allocations are untouched.
// Every rewrite of the file (rotation, prune) goes through the keyring lock
// and re-reads the file under it (policy/keyring_lock.h), so a concurrent
// `turnwarden rotate` is never lost; the stamp recorded is the one taken
// under the lock, so a rewrite that follows ours is picked up next second.
// Secret values are never logged, only ids.
#include <sys/stat.h>

#include <chrono>

#include "policy/rotation.h"
#include "policy/secrets_file.h"
#include "relay/app/server_app.h"

namespace tw::app {

void ServerApp::startKeyringWatch() {
  if (config_.auth.secretsFile.empty() || fleet_) return;  // a fleet's keyring lives in Redis
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
  const std::string& path = config_.auth.secretsFile;
  const int64_t now = clock_.unixSeconds();
  const auto stamp = policy::fileStampNs(path);
  const auto mtime = policy::fileMtime(path);
  if (stamp && *stamp != keyringMtime_) {
    // Rewritten by `turnwarden rotate` or an operator: load it like a reload.
    auto loaded = policy::loadSecretsFile(path);
    if (!loaded) {
      for (const auto& e : loaded.error()) log_.error("keyring change refused: " + e.format());
      keyringMtime_ = *stamp;  // report once per change
      return;
    }
    // The stamp read before loading: a rewrite racing this load is seen next time.
    return publishSecrets(std::move(loaded.value()), "reloaded (file changed)", *stamp);
  }
  if (config_.auth.rotation && mtime && policy::rotationDue(*mtime, now, config_.auth.rotation->interval))
    return (void)rotateNow("interval");
  const auto kept = policy::withoutExpired(config_.auth.secrets, now);
  if (kept.size() != config_.auth.secrets.size() && !kept.empty()) {
    // Grace over: drop it from the file as it is now, under the lock.
    auto pruned = policy::pruneSecretsFile(path, now, kServerLockWait);
    if (!pruned) {
      log_.error("keyring prune failed: " + pruned.error());
      return;
    }
    publishSecrets(std::move(pruned->secrets),
                   pruned->written ? "pruned (grace ended)" : "reloaded (file changed)", pruned->stampNs);
  }
}

}  // namespace tw::app
