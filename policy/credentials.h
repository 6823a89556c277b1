#pragma once
// Credentials for the long-term credential mechanism (RFC 8489 9.2), in two
// flavours:
//  - TURN REST API ephemeral credentials (draft-uberti-behave-turn-rest-00):
//      username = "<expiry unix seconds>:<user>"
//      password = base64(HMAC-SHA1(shared secret, username))
//    The web application and the relay share only the secret; the relay keeps
//    no per-user state. Several secrets may be live at once (rotation with a
//    grace period), so verification tries every unexpired secret.
//  - static users, configured with the hex MD5 long-term key.
// In both cases the key fed to MESSAGE-INTEGRITY is
//      key = MD5(username ":" realm ":" password)
//
// The auth gate's order is: parseRestUsername -> checkRestExpiry ->
// Keyring::candidateKeys -> constant-time MESSAGE-INTEGRITY check with each
// candidate (or findStaticUser for a static user).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/crypto.h"
#include "relay/base/result.h"

namespace tw::policy {

/// A REST shared secret. `id` names it in logs and the admin API (the value
/// never appears anywhere but in memory).
struct Secret {
  std::string id;
  std::string value;
  /// Last unix second at which the secret is usable; nullopt = no end. Lets
  /// an old secret keep verifying through a rotation grace period and then
  /// stop without a reload.
  std::optional<int64_t> notAfter;
};

/// Why authentication failed. Kept distinct for metrics and logs; on the wire
/// they collapse to 401 / 438 / 400 so a client learns nothing extra.
enum class AuthFailure {
  BadIntegrity,
  Expired,
  MalformedUsername,
  UnknownUser,
  StaleNonce,
  OverMaxTtl,
  MissingAttributes,
  Blocked,
};

/// "bad_integrity", "expired", "malformed_username", "unknown_user",
/// "stale_nonce", "over_max_ttl", "missing_attributes", "blocked": stable
/// metric label values.
std::string_view toString(AuthFailure f);

/// RFC 8489 14.3: USERNAME is at most 509 bytes; 512 is the limit threats.md
/// sets for the raw attribute. Anything longer is rejected before any crypto.
inline constexpr size_t kMaxUsernameBytes = 512;
/// 12 digits reach year 33658; more can only be an attack on integer parsing.
inline constexpr size_t kMaxExpiryDigits = 12;

/// A parsed REST username. `user` views into the string that was parsed.
struct RestUsername {
  int64_t expiry;
  std::string_view user;
};

/// Parses "expiry:user", splitting at the first colon (the user part may
/// itself contain colons). "expiry" alone (no colon) is accepted with an
/// empty user, as coturn and most REST implementations accept it; the HMAC
/// still binds the whole username, so this widens nothing. Rejects, with
/// MalformedUsername: empty; longer than kMaxUsernameBytes; empty expiry
/// (":bob"); a leading space, '+' or '-'; any non-digit in the expiry; more
/// than kMaxExpiryDigits digits; expiry == 0.
Result<RestUsername, AuthFailure> parseRestUsername(std::string_view username);

/// base64(HMAC-SHA1(secret, username)): what the web application hands the
/// client as the password.
std::string restPassword(std::string_view secret, std::string_view username);
std::string restPassword(std::string_view secret, std::string_view username, MacEngine& engine);

/// MD5(username ":" realm ":" password), the RFC 8489 long-term key.
std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password);
std::array<uint8_t, 16> longTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password, MacEngine& engine);

struct CredentialCheck {
  int64_t nowUnix;
  int64_t maxTtlSeconds;
  /// Tolerance for clock differences between the web application and us.
  int64_t clockSkewSeconds;
};

/// Expired if expiry + skew < now. OverMaxTtl if expiry > now + maxTtl +
/// skew: a web application bug (or a leaked secret) minting credentials for
/// years must not give years of access. Both boundaries are inclusive-OK,
/// and the arithmetic saturates instead of overflowing.
Status<AuthFailure> checkRestExpiry(const RestUsername& username, const CredentialCheck& check);

/// The REST secrets of one policy snapshot. Immutable: rotation builds a new
/// Keyring. The first unexpired secret mints; every unexpired secret
/// verifies, so clients holding credentials from the previous secret keep
/// working through the grace period.
class Keyring {
 public:
  explicit Keyring(std::vector<Secret> secrets);

  /// The secret used to mint new credentials, or nullptr if all expired.
  const Secret* minting(int64_t nowUnix) const;
  const std::vector<Secret>& secrets() const { return secrets_; }
  /// Writes into `out` one long-term key per unexpired secret, in keyring
  /// order, and returns how many were written (at most out.size()). The
  /// caller tries each against MESSAGE-INTEGRITY; no heap allocation for
  /// the keys themselves.
  size_t candidateKeys(std::string_view username, std::string_view realm, int64_t nowUnix,
                       std::span<std::array<uint8_t, 16>> out) const;
  /// The same with the caller's engine (the worker's, on the request path).
  size_t candidateKeys(std::string_view username, std::string_view realm, int64_t nowUnix,
                       std::span<std::array<uint8_t, 16>> out, MacEngine& engine) const;

 private:
  std::vector<Secret> secrets_;
};

/// True while `s` may mint and verify at `nowUnix` (now <= notAfter).
bool isUsable(const Secret& s, int64_t nowUnix);

struct MintedCredential {
  std::string username;
  std::string password;
  int64_t ttl;
};

/// A REST credential for `user` valid for `ttlSeconds` from now, minted with
/// keyring.minting(now). nullopt if no secret is usable, ttlSeconds <= 0,
/// or the username would exceed kMaxUsernameBytes. An empty `user` gives the
/// bare "expiry" form. Used by the admin CLI and tests, not the data path.
std::optional<MintedCredential> mintCredential(const Keyring& keyring, std::string_view user,
                                               int64_t ttlSeconds, int64_t nowUnix);

/// A configured user with a fixed long-term key (hex MD5 in the config, so
/// the plaintext password need not be stored on the server).
struct StaticUser {
  std::string name;
  std::array<uint8_t, 16> key;
};

/// Exact, full-length match only: "alice" does not match "alice2" or "ali",
/// and an empty name never matches anything (threats.md, truncation
/// collisions and zero-length USERNAME).
const StaticUser* findStaticUser(std::span<const StaticUser> users, std::string_view name);

}  // namespace tw::policy
