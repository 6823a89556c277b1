#pragma once
// The REST API keyring file (auth.secrets_file): a private YAML file with the
// same list as auth.secrets, kept apart from the config so that the config can
// be world-readable, versioned and shared while the keys are not.
//
//   # comments
//   secrets:
//     - id: k20250101-120000          # [A-Za-z0-9._-], unique, <= 64 chars
//       value: "64 hex digits..."     # >= 16 bytes; the first entry mints
//       not_after: 1767225600         # optional, unix seconds
//
// Files are only ever written atomically (temp file in the same directory,
// mode 0600, fsync, rename, fsync of the directory) so a crash never leaves a
// truncated keyring that would lock every client out. Secret values never
// appear in any error message.
#include <cstdint>
#include <string>
#include <vector>

#include "policy/config.h"
#include "policy/credentials.h"
#include "relay/base/random.h"
#include "relay/base/result.h"

namespace tw::policy {

/// Reads and validates a keyring file. Refused, with errors naming `path`:
/// a file that is not regular, whose mode has group/other bits (mode & 077),
/// that is not valid YAML, has unknown keys, an empty list, an empty, invalid
/// or duplicate id, or a value shorter than 16 bytes.
tw::Result<std::vector<Secret>, std::vector<ConfigError>> loadSecretsFile(const std::string& path);

/// Creates a keyring with one fresh 256-bit secret (64 hex digits from `rng`)
/// whose id is derived from `nowUnix` ("k20250101-120000"). Creates missing
/// parent directories with mode 0700. Refuses to replace an existing file, so
/// two servers starting at once cannot overwrite each other's key.
tw::Result<std::vector<Secret>, std::string> generateSecretsFile(const std::string& path, tw::Random& rng,
                                                                 int64_t nowUnix);

/// The id of a secret made at `nowUnix`: "kYYYYmmdd-HHMMSS" (UTC).
std::string secretIdFor(int64_t nowUnix);

/// Atomically writes (or replaces) a keyring, mode 0600, e.g. after rotation.
/// The list is validated first with the same rules as loadSecretsFile(), so a
/// keyring that could not be loaded back is never written.
tw::Status<std::string> writeSecretsFile(const std::string& path, const std::vector<Secret>& secrets);

/// Parses keyring text in the file's format with every rule of
/// loadSecretsFile() (the fleet keyring in Redis is held to the same rules);
/// `origin` names the source in errors.
tw::Result<std::vector<Secret>, std::vector<ConfigError>> parseKeyringText(std::string_view text,
                                                                           const std::string& origin);

/// The keyring as file text, refused unless it reads back identically under
/// parseKeyringText(). Errors never contain a secret value.
tw::Result<std::string, std::string> renderKeyringText(const std::vector<Secret>& secrets,
                                                       const std::string& origin);

}  // namespace tw::policy
