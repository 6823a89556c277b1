#pragma once
// One look at a keyring file, as the server takes once a second for
// auth.secrets_file and every auth.realms.REALM.secrets_file: a file
// rewritten by `turnwarden rotate` (or by hand) is loaded, an automatic
// rotation that is due is done, and secrets whose grace has ended are pruned
// from the file. Every rewrite goes through the keyring lock
// (keyring_lock.h). Errors never contain a secret value.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/credentials.h"
#include "policy/keyring_lock.h"
#include "policy/rotation.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"

namespace tw::policy {

/// A keyring file and how it rotates.
struct KeyringFileWatch {
  std::string path;
  std::optional<RotationConfig> rotation;
  int64_t graceSeconds = 0;  ///< rotationGraceSeconds(rotation, max_ttl)
};

/// What one look found: a keyring to publish, or errors to log, or neither.
struct KeyringPoll {
  std::optional<KeyringUpdate> change;  ///< the keyring now in force and the file's stamp
  std::string why;  ///< "reloaded (file changed)", "rotated (interval)", "pruned (grace ended)"
  std::vector<std::string> errors;  ///< "keyring change refused: FILE:LINE: ..." and the like
};

/// Looks at `watch.path` once. `seenStamp` is the fileStampNs() of the file
/// as last loaded or written (updated here when a change is refused, so it
/// is reported once, and when one is returned); `current` the keyring in force.
KeyringPoll pollKeyringFile(const KeyringFileWatch& watch, const std::vector<Secret>& current,
                            int64_t& seenStamp, Random& rng, int64_t nowUnix, tw::Duration lockWait);

}  // namespace tw::policy
