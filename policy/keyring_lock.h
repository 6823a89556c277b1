#pragma once
// Serialises every read-modify-write of the keyring file (auth.secrets_file).
//
// `turnwarden rotate`, the server's automatic rotation, its SIGUSR2/admin
// rotation and its grace-expiry prune all rewrite the keyring from what they
// read. Without a lock two of them can read the same file and the last rename
// wins, silently losing the other's new secret. Each of them therefore takes
// an exclusive flock(2) on the sibling file "<secrets_file>.lock" (created
// mode 0600, never removed: removing a lock file reopens the race) and reads
// the keyring again *under the lock* before writing it. Readers that only
// load the file need no lock: writes are atomic renames.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/credentials.h"
#include "relay/base/clock.h"
#include "relay/base/handle.h"
#include "relay/base/result.h"

namespace tw::policy {

/// "<keyringPath>.lock".
std::string keyringLockPath(const std::string& keyringPath);

/// An exclusive flock on the keyring's lock file, released on destruction.
class KeyringLock {
 public:
  /// Waits up to `timeout` (polling, so a wedged holder cannot hang the
  /// server's loop forever). Refuses a lock path that is a symlink or not a
  /// regular file.
  static Result<KeyringLock, std::string> acquire(const std::string& keyringPath,
                                                  tw::Duration timeout);
  // Closing the last descriptor releases the flock.

 private:
  explicit KeyringLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

/// What a locked keyring update saw and did.
struct KeyringUpdate {
  std::vector<Secret> secrets;  ///< The keyring now in the file.
  bool written = false;         ///< False when `edit` left the file alone.
  int64_t stampNs = 0;          ///< fileStampNs() of the file, taken under the lock.
};

/// Given the keyring as read under the lock, the keyring to write, or
/// nullopt to leave the file unchanged.
using KeyringEdit = std::function<std::optional<std::vector<Secret>>(const std::vector<Secret>&)>;

/// How long a keyring writer waits for another one by default.
inline constexpr tw::Duration kKeyringLockTimeout = std::chrono::seconds(10);

/// Lock, load `path`, apply `edit`, write atomically (writeSecretsFile),
/// unlock. Errors never contain a secret value.
Result<KeyringUpdate, std::string> updateSecretsFile(const std::string& path, const KeyringEdit& edit,
                                                     tw::Duration timeout = kKeyringLockTimeout);

}  // namespace tw::policy
