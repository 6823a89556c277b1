#pragma once
// Tracks the REST secret that mints credentials, for secret_rotations_total
// and secret_age_seconds. Fed every keyring the server publishes (start-up,
// rotation, file change, prune, reload); a rotation is a keyring whose
// minting (first) secret id differs from the previous one, so pruning the
// old secret after its grace is not counted.
//
// Age: the keyring has no creation field, but the ids turnwarden generates
// ("kYYYYmmdd-HHMMSS", "-N" on collisions; policy/secrets_file.h) record the
// UTC second the secret was made, so those are used. A hand-named id falls
// back to the keyring file's mtime when that secret became the minting one,
// and with inline secrets (no file) to the moment the server first saw it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/credentials.h"

namespace tw::metrics {

/// The creation time a generated secret id records; nullopt for other ids.
std::optional<int64_t> secretCreatedFromId(std::string_view id);

class SecretAge {
 public:
  /// Records the keyring now in force. `fileMtime`: the keyring file's mtime
  /// (unix s), nullopt with inline secrets. True when the minting secret
  /// changed from the one seen before: a rotation performed or picked up.
  bool observe(const std::vector<policy::Secret>& secrets, std::optional<int64_t> fileMtime, int64_t nowUnix);
  /// Seconds since the minting secret was created; nullopt before observe().
  std::optional<double> ageSeconds(int64_t nowUnix) const;

 private:
  std::optional<std::string> mintingId_;
  int64_t created_ = 0;
};

}  // namespace tw::metrics
