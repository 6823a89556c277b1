#include "policy/jwt_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "relay/base/crypto.h"
#include "relay/base/openssl_handles.h"

namespace tw::policy {

namespace {

using nlohmann::json;

/// A JWKS larger than this is not one an application exports by hand.
constexpr size_t kMaxKeys = 64;
constexpr size_t kMaxKid = 256;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  ///< Bigger keys only make verifying slow.

/// Shared by every JwtKey copy; the last one frees it with EVP_PKEY_free.
std::shared_ptr<evp_pkey_st> own(EVP_PKEY* k) { return PkeyPtr(k); }

/// EVP_PKEY_fromdata for a public key of `type`, then OpenSSL's own public
/// key check (point on the curve, RSA modulus sanity).
std::shared_ptr<evp_pkey_st> fromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return nullptr;
  auto key = own(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) <= 0) return nullptr;
  return key;
}

/// A required base64url member of a JWK, decoded.
Result<std::vector<uint8_t>, std::string> member(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return err(std::string(name) + " is missing or not a string");
  auto bytes = base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) return err(std::string(name) + " is not base64url");
  return std::move(*bytes);
}

std::string memberText(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::shared_ptr<evp_pkey_st>, std::string> rsaKey(const json& jwk) {
  auto n = member(jwk, "n");
  auto e = member(jwk, "e");
  if (!n) return err(n.error());
  if (!e) return err(e.error());
  BignumPtr bn(BN_bin2bn(n->data(), int(n->size()), nullptr));
  BignumPtr be(BN_bin2bn(e->data(), int(e->size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()))
    return err(std::string("cannot build the RSA key"));
  auto key = fromData("RSA", bld.get());
  if (!key) return err(std::string("not a valid RSA public key"));
  const int bits = EVP_PKEY_get_bits(key.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits)
    return err("RSA modulus of " + std::to_string(bits) + " bits (2048-8192 accepted)");
  return key;
}

Result<std::shared_ptr<evp_pkey_st>, std::string> ecKey(const json& jwk) {
  if (memberText(jwk, "crv") != "P-256") return err(std::string("crv must be P-256 (ES256)"));
  auto x = member(jwk, "x");
  auto y = member(jwk, "y");
  if (!x) return err(x.error());
  if (!y) return err(y.error());
  if (x->size() != 32 || y->size() != 32) return err(std::string("x and y must be 32 bytes each"));
  std::vector<uint8_t> point{0x04};  // uncompressed SEC1 point
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    return err(std::string("cannot build the EC key"));
  auto key = fromData("EC", bld.get());
  if (!key) return err(std::string("not a point on P-256"));
  return key;
}

Result<std::shared_ptr<evp_pkey_st>, std::string> okpKey(const json& jwk) {
  if (memberText(jwk, "crv") != "Ed25519") return err(std::string("crv must be Ed25519 (EdDSA)"));
  auto x = member(jwk, "x");
  if (!x) return err(x.error());
  if (x->size() != 32) return err(std::string("x must be 32 bytes"));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(), x->size()))
    return err(std::string("cannot build the Ed25519 key"));
  auto key = fromData("ED25519", bld.get());
  if (!key) return err(std::string("not a valid Ed25519 public key"));
  return key;
}

/// The algorithm a JWK is for: its `alg`, else implied by kty. nullopt for
/// a key we skip (another use, another algorithm, another key type).
std::optional<JwtAlg> algorithmOf(const json& jwk, const std::string& kty) {
  const std::string use = memberText(jwk, "use");
  if (jwk.contains("use") && use != "sig") return std::nullopt;
  JwtAlg implied;
  if (kty == "RSA") implied = JwtAlg::RS256;
  else if (kty == "EC") implied = JwtAlg::ES256;
  else if (kty == "OKP") implied = JwtAlg::EdDSA;
  else return std::nullopt;
  if (!jwk.contains("alg")) return implied;
  auto alg = parseJwtAlg(memberText(jwk, "alg"));
  if (!alg || *alg != implied) return std::nullopt;
  return alg;
}

/// One element of "keys": a key, nullopt when skipped, or why it is bad.
Result<std::optional<JwtKey>, std::string> readKey(const json& jwk) {
  if (!jwk.is_object()) return err(std::string("not a JSON object"));
  const std::string kty = memberText(jwk, "kty");
  if (kty.empty()) return err(std::string("kty is missing or not a string"));
  if (jwk.contains("kid") && (!jwk["kid"].is_string() || memberText(jwk, "kid").size() > kMaxKid))
    return err(std::string("kid must be a string of at most 256 bytes"));
  auto alg = algorithmOf(jwk, kty);
  if (!alg) return std::optional<JwtKey>();
  auto key = *alg == JwtAlg::RS256 ? rsaKey(jwk) : *alg == JwtAlg::ES256 ? ecKey(jwk) : okpKey(jwk);
  if (!key) return err(key.error());
  return std::optional<JwtKey>(JwtKey{memberText(jwk, "kid"), *alg, std::move(key.value())});
}

Result<std::vector<JwtKey>, JwksError> readKeys(const json& doc) {
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    return err(JwksError{"not a JWKS: expected {\"keys\": [...]}"});
  const json& list = doc["keys"];
  if (list.size() > kMaxKeys) return err(JwksError{"more than 64 keys"});
  std::vector<JwtKey> keys;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "keys[" + std::to_string(i) + "]: ";
    auto key = readKey(list[i]);
    if (!key) return err(JwksError{where + key.error()});
    if (!key.value()) continue;
    const std::string& kid = key.value()->kid;
    auto same = [&](const JwtKey& k) { return k.kid == kid; };
    if (std::any_of(keys.begin(), keys.end(), same))
      return err(JwksError{where + (kid.empty() ? "a second key without kid" : "duplicate kid")});
    keys.push_back(std::move(*key.value()));
  }
  if (keys.empty()) return err(JwksError{"no usable key (RS256, ES256 P-256 or EdDSA Ed25519 signature keys)"});
  return keys;
}

}  // namespace

std::string_view toString(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::RS256: return "RS256";
    case JwtAlg::ES256: return "ES256";
    case JwtAlg::EdDSA: return "EdDSA";
  }
  return "?";
}

std::optional<JwtAlg> parseJwtAlg(std::string_view name) {
  for (JwtAlg a : {JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA})
    if (name == toString(a)) return a;
  return std::nullopt;
}

Result<Jwks, JwksError> Jwks::parse(std::string_view text) {
  try {
    auto keys = readKeys(json::parse(text));
    if (!keys) return err(std::move(keys.error()));
    Jwks set;
    set.keys_ = std::move(keys.value());
    return set;
  } catch (const json::parse_error& e) {
    return err(JwksError{"not valid JSON", e.byte, true});
  } catch (const json::exception&) {
    return err(JwksError{"unexpected JSON value"});
  }
}

const JwtKey* Jwks::find(std::optional<std::string_view> kid, JwtAlg alg) const {
  const JwtKey* only = nullptr;
  for (const JwtKey& k : keys_) {
    if (kid && k.kid == *kid) return k.alg == alg ? &k : nullptr;
    if (!kid && k.alg == alg) {
      if (only) return nullptr;  // ambiguous: the token must name its key
      only = &k;
    }
  }
  return kid ? nullptr : only;
}

std::optional<std::vector<uint8_t>> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string std64;
  std64.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') std64 += '+';
    else if (c == '_') std64 += '/';
    else if (std::isalnum(static_cast<unsigned char>(c))) std64 += c;
    else return std::nullopt;  // padding, whitespace, '+', '/'...
  }
  while (std64.size() % 4) std64 += '=';
  return base64Decode(std64);
}

std::string base64UrlEncode(const std::vector<uint8_t>& bytes) {
  std::string s = base64Encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

}  // namespace tw::policy
