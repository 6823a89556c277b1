#pragma once
// Verification of an application's session JWT (RFC 7519, JWS compact form)
// for the credentials endpoint. Pure: no I/O, time comes in as an argument.
//
// Order, each step refusing before the next costs more:
//   1. sizes: the whole token, then the header segment (kMaxJwtBytes,
//      kMaxJwtHeaderBytes); exactly three base64url segments;
//   2. header: JSON object, `alg` one of RS256/ES256/EdDSA (so "none" and
//      every HMAC algorithm are refused before any key is looked at: the
//      algorithm-confusion attack that signs HS256 with the public key
//      cannot start), no `crit`, `kid` selects the key (jwt_keys.h);
//   3. signature over "header.payload" with OpenSSL's EVP_DigestVerify
//      (ES256's JOSE r||s is converted to the DER OpenSSL expects);
//   4. claims, only once the signature holds: iss equal, aud (string or
//      array) containing a configured audience, exp required, nbf and iat
//      checked with the clock skew (an iat in the future is refused), sub a
//      non-empty string.
// Strictness (RFC 7515/7519/8725): every segment must be canonical base64url
// (no padding, unused trailing bits zero: one token has one spelling), no
// JSON object in the header or the claims may repeat a member name (a
// duplicate would let two parsers read two different tokens), and when the
// issuer names a `typ` (credentials.typ) the header must carry it.
// Every refusal gets a reason for metrics and logs; the HTTP answer is the
// same for all of them.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "policy/jwt_keys.h"
#include "relay/base/result.h"

namespace tw::policy {

inline constexpr size_t kMaxJwtBytes = 8192;
inline constexpr size_t kMaxJwtHeaderBytes = 1024;  ///< base64url characters

enum class JwtRejection {
  Malformed,     ///< not three base64url segments of JSON objects
  Oversize,      ///< token or header over the limits above
  BadAlgorithm,  ///< none, HS256, RS512..., or crit present
  UnknownKey,    ///< no key with that kid and algorithm
  BadSignature,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
  MissingSubject,
  MissingExpiry,
  WrongType,       ///< credentials.typ set and the header's typ differs or is missing
  IssuedInFuture,  ///< iat later than now + clock skew
};
inline constexpr JwtRejection kLastJwtRejection = JwtRejection::IssuedInFuture;

/// "malformed", "oversize", "bad_algorithm", "unknown_key", "bad_signature",
/// "expired", "not_yet_valid", "wrong_issuer", "wrong_audience",
/// "missing_subject", "missing_expiry", "wrong_type", "issued_in_future":
/// stable metric label values.
std::string_view toString(JwtRejection r);

struct JwtExpectations {
  std::string_view issuer;
  std::span<const std::string> audiences;  ///< any one must be in `aud`
  int64_t nowUnix = 0;
  int64_t clockSkewSeconds = 0;
  /// The required header `typ` ("" = any or none). Compared as RFC 7515
  /// §4.1.9 says: case-insensitively, "application/" optional on both sides.
  std::string_view typ{};
};

struct JwtClaims {
  std::string sub;
  int64_t exp = 0;
};

Result<JwtClaims, JwtRejection> verifyJwt(std::string_view token, const Jwks& keys,
                                          const JwtExpectations& expect);

/// Longest `sub` used as the TURN user as it is.
inline constexpr size_t kMaxPlainTurnUser = 64;

/// The TURN user for an application user: `sub` itself when it is 1-64
/// characters of [A-Za-z0-9._@+-] (no ':' that would break the REST
/// username, nothing a log or blocked_users entry would mangle); otherwise
/// "~" + the first 32 hex digits of SHA-256(sub), which no plain user can
/// look like. Either way one app user is one TURN user, so per-user quotas
/// and auth.blocked_users apply per app user.
std::string turnUserFor(std::string_view sub);

}  // namespace tw::policy
