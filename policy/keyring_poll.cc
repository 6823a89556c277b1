#include "policy/keyring_poll.h"

#include "policy/secrets_file.h"

namespace tw::policy {

namespace {
KeyringPoll changed(KeyringUpdate update, std::string why, int64_t& seenStamp) {
  seenStamp = update.stampNs;
  KeyringPoll p;
  p.change = std::move(update);
  p.why = std::move(why);
  return p;
}

KeyringPoll failed(std::string error) {
  KeyringPoll p;
  p.errors.push_back(std::move(error));
  return p;
}

/// The file was rewritten by someone else: load it like a reload would.
KeyringPoll reloadFile(const std::string& path, int64_t stamp, int64_t& seenStamp) {
  auto loaded = loadSecretsFile(path);
  if (!loaded) {
    seenStamp = stamp;  // report once per change
    KeyringPoll p;
    for (const auto& e : loaded.error()) p.errors.push_back("keyring change refused: " + e.format());
    return p;
  }
  // The stamp read before loading: a rewrite racing this load is seen next time.
  return changed(KeyringUpdate{std::move(loaded.value()), false, stamp}, "reloaded (file changed)",
                 seenStamp);
}
}  // namespace

KeyringPoll pollKeyringFile(const KeyringFileWatch& watch, const std::vector<Secret>& current,
                            int64_t& seenStamp, Random& rng, int64_t nowUnix, tw::Duration lockWait) {
  const auto stamp = fileStampNs(watch.path);
  if (stamp && *stamp != seenStamp) return reloadFile(watch.path, *stamp, seenStamp);
  const auto mtime = fileMtime(watch.path);
  if (watch.rotation && mtime && rotationDue(*mtime, nowUnix, watch.rotation->interval)) {
    auto next = rotateSecretsFile(watch.path, rng, nowUnix, watch.graceSeconds, lockWait);
    if (!next) return failed("keyring rotation failed, keeping the current keyring: " + next.error());
    return changed(std::move(next.value()), "rotated (interval)", seenStamp);
  }
  const auto kept = withoutExpired(current, nowUnix);
  if (kept.size() == current.size() || kept.empty()) return {};
  // Grace over: drop it from the file as it is now, under the lock.
  auto pruned = pruneSecretsFile(watch.path, nowUnix, lockWait);
  if (!pruned) return failed("keyring prune failed: " + pruned.error());
  std::string why = pruned->written ? "pruned (grace ended)" : "reloaded (file changed)";
  return changed(std::move(pruned.value()), std::move(why), seenStamp);
}

}  // namespace tw::policy
