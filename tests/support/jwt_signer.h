#pragma once
// Test keys and tokens for the JWT credentials endpoint: keys generated at
// test time with OpenSSL (RSA 2048, P-256, Ed25519), their public JWKs, and
// compact JWS tokens signed with them. Independent of policy/jwt*: signing
// goes through EVP_DigestSign, the JWK export through OpenSSL's key params.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/jwt_keys.h"

namespace tw::testing {

class TestKey {
 public:
  /// A fresh key pair for `alg`.
  static TestKey generate(policy::JwtAlg alg);
  /// An RSA key of `bits` (for refusing small moduli).
  static TestKey rsa(unsigned bits);

  policy::JwtAlg alg() const { return alg_; }
  /// The public key as a JWK object; `kid` empty = no kid member.
  std::string jwk(const std::string& kid) const;
  /// "b64url(header).b64url(payload).b64url(signature)" for the JSON texts
  /// given (ES256 signatures in JOSE r||s form).
  std::string sign(std::string_view headerJson, std::string_view payloadJson) const;
  /// A token with header {"alg": <alg>, "typ": "JWT", "kid": kid}.
  std::string token(const std::string& kid, std::string_view payloadJson) const;
  /// The public key in PEM (SubjectPublicKeyInfo), as an attacker would
  /// misuse it as an HMAC secret.
  std::string publicPem() const;
  /// The private key in PKCS#8 PEM, for drivers that sign in another language.
  std::string privatePem() const;

 private:
  policy::JwtAlg alg_ = policy::JwtAlg::EdDSA;
  std::shared_ptr<evp_pkey_st> key_;
};

/// {"keys": [jwk, ...]}
std::string jwksOf(const std::vector<std::string>& jwks);

/// A JWT payload with these claims (exp/nbf omitted when 0, sub when empty).
std::string claims(std::string_view iss, std::string_view aud, std::string_view sub, int64_t exp,
                   int64_t nbf = 0);

/// b64url(header).b64url(payload).b64url(HMAC-SHA256(secret, ...)).
std::string hs256Token(std::string_view headerJson, std::string_view payloadJson, std::string_view secret);

std::string b64url(std::string_view bytes);

}  // namespace tw::testing
