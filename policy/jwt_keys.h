#pragma once
// The public keys an application signs its JWTs with, read from a JWKS file
// (RFC 7517) that the application exports; nothing here fetches URLs.
//
// Only signature keys of the three algorithms verifyJwt() accepts are kept:
//   RS256  kty RSA, n/e, modulus >= 2048 bits
//   ES256  kty EC, crv P-256, x/y (the point must be on the curve)
//   EdDSA  kty OKP, crv Ed25519, x
// Each becomes an OpenSSL EVP_PKEY built with EVP_PKEY_fromdata (no
// hand-written crypto). A key whose `use` is not "sig" or whose `alg` is one
// we never accept (RS512, PS256, ...) can verify nothing we accept, so it is
// skipped, not an error: identity providers publish such keys next to their
// signing keys. A key of a supported type that is malformed is an error.
//
// JSON is parsed with nlohmann-json; its exceptions stop in this file.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/base/result.h"

struct evp_pkey_st;

namespace tw::policy {

enum class JwtAlg { RS256, ES256, EdDSA };

/// "RS256", "ES256", "EdDSA": the JOSE names.
std::string_view toString(JwtAlg alg);
/// Only the three names above; "none", "HS256", "RS512"... give nullopt.
std::optional<JwtAlg> parseJwtAlg(std::string_view name);

struct JwtKey {
  std::string kid;  ///< May be empty when the JWKS gives none.
  JwtAlg alg;
  std::shared_ptr<evp_pkey_st> key;
};

/// Why a JWKS was refused. `byte` is the offset of a JSON syntax error
/// (0 when the problem is not a syntax error), for FILE:LINE:COL messages.
struct JwksError {
  std::string message;
  size_t byte = 0;
  bool syntax = false;
};

/// An immutable set of verification keys. Shared between policy snapshots.
class Jwks {
 public:
  /// Parses a JWKS document ({"keys": [...]}). Refuses one with no usable
  /// key, duplicate kids, or a malformed key of a supported type.
  static Result<Jwks, JwksError> parse(std::string_view json);

  /// The key for a token header's kid and alg. With a kid: the key with that
  /// kid, if its algorithm is `alg`. Without one: the only key of `alg`, if
  /// exactly one exists. nullptr otherwise.
  const JwtKey* find(std::optional<std::string_view> kid, JwtAlg alg) const;
  size_t size() const { return keys_.size(); }
  const std::vector<JwtKey>& keys() const { return keys_; }

 private:
  std::vector<JwtKey> keys_;
};

/// Base64url without padding (RFC 7515 §2); nullopt for any other character,
/// padding, an impossible length, or non-zero unused trailing bits (only the
/// canonical spelling of a value is accepted).
std::optional<std::vector<uint8_t>> base64UrlDecode(std::string_view text);
std::string base64UrlEncode(const std::vector<uint8_t>& bytes);

}  // namespace tw::policy
