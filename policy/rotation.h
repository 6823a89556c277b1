#pragma once
// REST secret rotation (auth.rotation: {interval, grace}). A rotation puts a
// fresh 256-bit CSPRNG secret first in the keyring (it mints from then on)
// and keeps every previous secret verifying until `grace` has passed, by
// capping its not_after; grace >= max_ttl (validated) so every credential
// already handed out stays valid until it expires. Expired secrets are then
// dropped from the file. The keyring file's mtime records the last rotation,
// so the schedule survives restarts without extra state.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/credentials.h"
#include "policy/keyring_lock.h"
#include "relay/base/clock.h"
#include "relay/base/random.h"
#include "relay/base/result.h"

namespace tw::policy {

struct RotationConfig {
  tw::Duration interval{};  ///< 0: no automatic rotation
  tw::Duration grace{};
};

/// The grace a rotation gives previous secrets: auth.rotation.grace, or
/// max_ttl when rotation is manual only (the shortest safe grace).
int64_t rotationGraceSeconds(const std::optional<RotationConfig>& rotation, int64_t maxTtlSeconds);

/// The keyring after one rotation at `nowUnix`: a new secret first (id
/// "kYYYYmmdd-HHMMSS", made unique), previous secrets kept with
/// not_after = min(not_after, now + grace), expired ones dropped.
std::vector<Secret> rotateKeyring(const std::vector<Secret>& current, Random& rng, int64_t nowUnix,
                                  int64_t graceSeconds);

/// `current` without the secrets whose not_after has passed.
std::vector<Secret> withoutExpired(const std::vector<Secret>& current, int64_t nowUnix);

/// Under the keyring lock (keyring_lock.h): loads the keyring at `path`,
/// rotates it and writes it back atomically (temp file, fsync, rename, mode
/// 0600), so a concurrent rotation's secret is never lost. Errors never
/// contain a secret.
Result<KeyringUpdate, std::string> rotateSecretsFile(const std::string& path, Random& rng, int64_t nowUnix,
                                                     int64_t graceSeconds,
                                                     tw::Duration lockTimeout = kKeyringLockTimeout);

/// Under the keyring lock: drops the secrets whose not_after has passed from
/// the file as it is now (not as the caller last saw it), unless none expired
/// or that would leave it empty.
Result<KeyringUpdate, std::string> pruneSecretsFile(const std::string& path, int64_t nowUnix,
                                                    tw::Duration lockTimeout = kKeyringLockTimeout);

/// Modification time of `path` in unix seconds, or nullopt if it cannot be read.
std::optional<int64_t> fileMtime(const std::string& path);

/// A stamp that changes whenever `path` is rewritten: its mtime in
/// nanoseconds mixed with its inode and size, so two atomic replacements
/// within one timestamp tick (the kernel's clock is coarser than 1 ns) still
/// differ.
std::optional<int64_t> fileStampNs(const std::string& path);

/// True when an automatic rotation is due: the keyring was last written
/// `interval` or more ago.
bool rotationDue(int64_t lastWrittenUnix, int64_t nowUnix, tw::Duration interval);

}  // namespace tw::policy
